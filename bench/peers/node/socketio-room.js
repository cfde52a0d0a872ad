// The seeds' chat room on Socket.IO, for the fan-out benchmark: the same lines, as `chat`
// events, in Socket.IO rooms. WebSocket transport only (no long-polling), no compression.
"use strict";
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 3003);
const server = http.createServer();
const io = new Server(server, {
  transports: ["websocket"],
  perMessageDeflate: false,
  maxHttpBufferSize: 8192,
  serveClient: false,
});

io.on("connection", (socket) => {
  const room = String(socket.handshake.query.room || "lobby");
  const name = String(socket.handshake.query.name || "guest");
  socket.join(room);
  io.to(room).emit("chat", `Welcome, ${name} !`);
  let left = false;
  socket.on("chat", (text) => {
    if (typeof text !== "string") return;
    if (text === "quit") {
      left = true;
      io.to(room).emit("chat", `${name} Logout`);
      socket.disconnect(true);
    } else if (text.trim() !== "") {
      io.to(room).emit("chat", `${name}:${text}`);
    }
  });
  socket.on("disconnect", () => {
    if (!left) io.to(room).emit("chat", `${name} Logout`);
  });
});

server.listen(port, "127.0.0.1", 4096, () => console.log(`Socket.IO room on 127.0.0.1:${port}`));
