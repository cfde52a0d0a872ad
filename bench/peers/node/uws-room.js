// The seeds' plain-text chat room on uWebSockets.js, for the fan-out benchmark. Rooms are uWS
// topics: a publish encodes the frame once and writes it to every subscriber.
"use strict";
const uWS = require("@trufflesuite/uws-js-unofficial");

const port = Number(process.argv[2] || 3002);
const decoder = new TextDecoder();

const app = uWS.App().ws("/*", {
  compression: uWS.DISABLED,
  maxPayloadLength: 8192,
  upgrade: (res, req, context) => {
    const name = new URLSearchParams(req.getQuery() || "").get("name") || "guest";
    res.upgrade(
      { room: req.getUrl(), name },
      req.getHeader("sec-websocket-key"),
      req.getHeader("sec-websocket-protocol"),
      req.getHeader("sec-websocket-extensions"),
      context,
    );
  },
  open: (ws) => {
    const { room, name } = ws.getUserData();
    ws.subscribe(room);
    app.publish(room, `Welcome, ${name} !`);
  },
  message: (ws, message, isBinary) => {
    if (isBinary) return;
    const { room, name } = ws.getUserData();
    const text = decoder.decode(message);
    if (text === "quit") {
      app.publish(room, `${name} Logout`);
      ws.getUserData().left = true;
      ws.end(1000);
    } else if (text.trim() !== "") {
      app.publish(room, `${name}:${text}`);
    }
  },
  close: (ws) => {
    const data = ws.getUserData();
    if (!data.left) app.publish(data.room, `${data.name} Logout`);
  },
});

app.listen("127.0.0.1", port, (socket) => {
  if (!socket) {
    console.error(`cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(`uWebSockets.js room on 127.0.0.1:${port}`);
});
