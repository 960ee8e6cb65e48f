// The Node neighbour: a socket.io 4 server doing what bench/bare_server.py does.
//
//   join {room}          -> socket.join(room), ack {sid}
//   relay {to, payload}  -> "relay" {from, payload} to that sid, ack true
//   broadcast {payload}  -> "broadcast" {from, payload} to the sender's room but the
//                           sender, ack true
//
// On start it prints one JSON line on stdout: {"event": "listening", "port": P, "pid": N}.
//
//   node bench/node/server.js --port 0 --serializer json|msgpack
"use strict";

const http = require("http");
const { Server } = require("socket.io");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = arg("host", "127.0.0.1");
const port = Number(arg("port", "0"));
const serializer = arg("serializer", "json");

const options = { transports: ["websocket", "polling"], perMessageDeflate: false };
if (serializer === "msgpack") {
  options.parser = require("socket.io-msgpack-parser");
}

const httpServer = http.createServer();
const io = new Server(httpServer, options);
const roomOf = new Map();

io.on("connection", (socket) => {
  socket.on("join", (data, ack) => {
    const room = data.room;
    socket.join(room);
    roomOf.set(socket.id, room);
    if (typeof ack === "function") ack({ sid: socket.id });
  });
  socket.on("relay", (data, ack) => {
    io.to(data.to).emit("relay", { from: socket.id, payload: data.payload });
    if (typeof ack === "function") ack(true);
  });
  socket.on("broadcast", (data, ack) => {
    const room = roomOf.get(socket.id);
    if (room !== undefined) {
      socket.to(room).emit("broadcast", { from: socket.id, payload: data.payload });
    }
    if (typeof ack === "function") ack(true);
  });
  socket.on("disconnect", () => roomOf.delete(socket.id));
});

httpServer.listen({ host, port, backlog: 4096 }, () => {
  const bound = httpServer.address().port;
  process.stdout.write(JSON.stringify({ event: "listening", port: bound, pid: process.pid }) + "\n");
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    io.close();
    httpServer.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
