// The seeds' plain-text chat room on Node's `ws`, for the fan-out benchmark.
// ws://127.0.0.1:<port>/<room>?name=<name>: `Welcome, <name> !` to the room on join,
// `<name>:<msg>` for each message, `<name> Logout` on `quit` or when the connection ends.
"use strict";
const http = require("http");
const { WebSocketServer, WebSocket } = require("ws");

const port = Number(process.argv[2] || 3001);
const rooms = new Map(); // room -> Set of sockets

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 8192 });

// One Buffer per broadcast: the text is encoded once, not once per member.
function broadcast(members, text) {
  const data = Buffer.from(text);
  for (const member of members) {
    if (member.readyState === WebSocket.OPEN) member.send(data, { binary: false });
  }
}

wss.on("connection", (ws, req) => {
  const url = new URL(req.url, "http://localhost");
  const room = url.pathname;
  const name = url.searchParams.get("name") || "guest";
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  broadcast(members, `Welcome, ${name} !`);
  const leave = () => {
    if (!members.delete(ws)) return;
    broadcast(members, `${name} Logout`);
    if (members.size === 0) rooms.delete(room);
  };
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    if (text === "quit") {
      broadcast(members, `${name} Logout`);
      members.delete(ws);
      ws.close(1000);
    } else if (text.trim() !== "") {
      broadcast(members, `${name}:${text}`);
    }
  });
  ws.on("close", leave);
  ws.on("error", leave);
});

server.listen(port, "127.0.0.1", 4096, () => console.log(`ws room on 127.0.0.1:${port}`));
