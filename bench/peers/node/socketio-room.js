// The seeds' chat room on Socket.IO, for the fan-out benchmark: the same lines, as `chat`
// events, in Socket.IO rooms. WebSocket transport only (no long-polling), no compression.
//
//   node socketio-room.js PORT [REDIS_URL]
//
// With a Redis URL, several of these share their rooms through Socket.IO's Redis adapter
// (@socket.io/redis-adapter on node-redis), as its documentation sets it up.
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

async function main() {
  const redisUrl = process.argv[3];
  if (redisUrl) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pubClient = createClient({ url: redisUrl });
    const subClient = pubClient.duplicate();
    await Promise.all([pubClient.connect(), subClient.connect()]);
    io.adapter(createAdapter(pubClient, subClient));
  }
  server.listen(port, "127.0.0.1", 4096, () =>
    console.log(`Socket.IO room on 127.0.0.1:${port}${redisUrl ? ` sharing rooms through ${redisUrl}` : ""}`),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
