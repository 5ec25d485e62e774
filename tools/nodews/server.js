// Echo server on the Node.js "ws" library, for tools/gencap-node.
//
// Listens on 127.0.0.1 on a free port and prints "listening PORT" on stdout.
// Every message is echoed with its type. Paths starting with /checked refuse
// an Origin whose host differs from the Host header (verifyClient); every
// other path accepts any Origin, which is what a ws server without
// verifyClient does.
'use strict';
const { WebSocketServer } = require('ws');

function sameHost(origin, host) {
  try {
    return new URL(origin).host.toLowerCase() === String(host).toLowerCase();
  } catch (e) {
    return false;
  }
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  verifyClient: (info) => !info.req.url.startsWith('/checked') || sameHost(info.origin, info.req.headers.host),
});

wss.on('listening', () => {
  process.stdout.write('listening ' + wss.address().port + '\n');
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
