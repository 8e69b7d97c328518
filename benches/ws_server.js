// The side-by-side benchmark's server: Node `ws` on 127.0.0.1, permessage-deflate available
// (used only when a client offers it). Usage: node ws_server.js PORT
'use strict';
const { WebSocketServer } = require('ws');
const port = Number(process.argv[2] || 9301);
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: { clientNoContextTakeover: true, serverNoContextTakeover: true },
  clientTracking: false,
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
