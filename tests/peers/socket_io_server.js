#!/usr/bin/env node
// A real Socket.IO server (npm `socket.io` 4, Engine.IO v4) for tests/protocols.rs.
//
// Binds 127.0.0.1 on a free port and prints `PORT <n>` on stdout once it listens. Exits when stdin
// closes (so a test that dies never leaves it running) or on SIGTERM / SIGINT.
//
// Namespaces: `/` accepts everyone and answers the event `hello` (any data) with `hello-back`
// carrying the same data; `/private` accepts a client whose auth payload has `token: "ok"` and
// refuses the others (a CONNECT_ERROR, `44/private,{"message":"not authorized"}`). Every event
// received is written to stderr as `event <namespace> <name> <JSON data>`.
// Flags: --ping-interval MS, --ping-timeout MS  (default: socket.io's, 25000 and 20000).
// The packages are looked up in target/peers/node (where `bash tests/peers/install.sh` puts
// them), or in NODE_PATH.
'use strict';

const http = require('http');
const path = require('path');

const local = path.join(__dirname, '..', '..', 'target', 'peers', 'node');
function load(name) {
  try {
    return require(require.resolve(name, { paths: [local] }));
  } catch (_) {
    return require(name);
  }
}
const { Server } = load('socket.io');

function usage(msg) {
  process.stderr.write(`socket_io_server.js: ${msg}\n`);
  process.exit(2);
}

const opts = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) usage(`${argv[i]} needs a positive integer`);
  if (argv[i] === '--ping-interval') opts.pingInterval = n;
  else if (argv[i] === '--ping-timeout') opts.pingTimeout = n;
  else usage(`unknown flag ${argv[i]}`);
  i++;
}

const server = http.createServer();
const io = new Server(server, { ...opts, transports: ['websocket'], serveClient: false });
function logEvents(nsp) {
  return (socket) => {
    socket.onAny((name, data) => {
      process.stderr.write(`event ${nsp} ${name} ${JSON.stringify(data)}\n`);
      if (name === 'hello') socket.emit('hello-back', data);
    });
  };
}
io.of('/').on('connection', logEvents('/'));
const priv = io.of('/private');
priv.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === 'ok') next();
  else next(new Error('not authorized'));
});
priv.on('connection', logEvents('/private'));

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
const stop = () => { io.close(); server.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
