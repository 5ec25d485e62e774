'use strict';
// Records socket.io 4 (server) and socket.io-client 4 talking over the
// WebSocket transport on 127.0.0.1 through the recording proxy. The truth
// is every Socket.IO packet each side's encoder was given (a logging
// parser passed to both libraries), with its type as encoded (EVENT
// becomes BINARY_EVENT when the data holds binary).
const http = require('http');
const { Server } = require('socket.io');
const { io } = require('socket.io-client');
const parser = require('socket.io-parser');
const { startProxy, newRecording, plain, write, sleep } = require('./lib');

function loggingParser(dir, rec) {
  class Encoder extends parser.Encoder {
    encode(packet) {
      const entry = { dir, nsp: packet.nsp, data: plain(packet.data) };
      if (packet.id !== undefined) entry.id = packet.id;
      const out = super.encode(packet);
      entry.type = Number(String(out[0])[0]);
      rec.truth.push(entry);
      return out;
    }
  }
  return { Encoder, Decoder: parser.Decoder, protocol: parser.protocol, PacketType: parser.PacketType };
}

// The socket.io-client 2.x parser (Socket.IO protocol 4, Engine.IO 3)
// encodes through a callback.
function loggingParserV2(dir, rec) {
  const v2 = require('socket.io-client-v2/node_modules/socket.io-parser');
  class Encoder extends v2.Encoder {
    encode(packet, cb) {
      const entry = { dir, nsp: packet.nsp, data: plain(packet.data) };
      if (packet.id !== undefined) entry.id = packet.id;
      super.encode(packet, (out) => {
        entry.type = Number(String(out[0])[0]);
        rec.truth.push(entry);
        cb(out);
      });
    }
  }
  return { Encoder, Decoder: v2.Decoder, protocol: v2.protocol, types: v2.types };
}

// eio3 records a socket.io-client 2.x client (Engine.IO 3: the client
// pings, binary packets carry a type byte) against socket.io 4 with
// allowEIO3.
async function eio3() {
  const ioV2 = require('socket.io-client-v2');
  const rec = newRecording('socketio', `socket.io ${require('socket.io/package.json').version} (allowEIO3), socket.io-client ${require('socket.io-client-v2/package.json').version}`);
  const httpServer = http.createServer();
  const srv = new Server(httpServer, { transports: ['websocket'], allowEIO3: true, parser: loggingParser('s2c', rec), pingInterval: 150, pingTimeout: 1000 });
  srv.on('connection', (s) => {
    s.on('upload', (buf, ack) => ack('got ' + buf.length, Buffer.from([9, 8, 7])));
    s.emit('hello', 'v2 client', { nested: [true] });
  });
  srv.of('/admin').on('connection', (s) => s.emit('welcome'));
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const proxy = await startProxy(httpServer.address().port, rec);
  const url = `http://127.0.0.1:${proxy.port}`;
  const clientParser = loggingParserV2('c2s', rec);
  const sock = ioV2(url, { transports: ['websocket'], parser: clientParser, reconnection: false, forceNew: true });
  const got = (s, ev) => new Promise((r) => s.once(ev, (...a) => r(a)));
  const hello = got(sock, 'hello');
  await got(sock, 'connect');
  await hello;
  await new Promise((r) => sock.emit('upload', Buffer.from('abcdef'), (...a) => r(a)));
  const admin = sock.io.socket('/admin'); // the same Engine.IO connection
  await got(admin, 'welcome');
  await sleep(400); // Engine.IO 3: the client pings, the server pongs
  admin.close();
  await sleep(50);
  sock.close();
  await sleep(100);
  proxy.close();
  srv.close();
  write(rec, 'socketio-eio3.json');
}

// polling records the default transports of socket.io 4: the session
// starts with HTTP long-polling (a handshake GET, then POSTs and held GETs
// on other TCP connections) and upgrades to WebSocket (the upgrade URL
// carries the session id); packets sent before the upgrade travel in the
// polling bodies, the rest over WebSocket.
async function polling() {
  const rec = newRecording('socketio', `socket.io ${require('socket.io/package.json').version}, socket.io-client ${require('socket.io-client/package.json').version} (polling, then WebSocket)`);
  const httpServer = http.createServer();
  const srv = new Server(httpServer, { parser: loggingParser('s2c', rec), pingInterval: 300, pingTimeout: 1000 });
  srv.on('connection', (s) => {
    s.on('message', (text, ack) => { if (typeof ack === 'function') ack({ ok: true, echo: text }); });
    s.on('after', (n) => s.emit('after-upgrade', n, Buffer.from([7, 7])));
    s.emit('news', { over: 'polling' });
    s.emit('blob', Buffer.from([1, 2, 3]), 'two', Buffer.from('bin'));
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const proxy = await startProxy(httpServer.address().port, rec);
  const url = `http://127.0.0.1:${proxy.port}`;
  const sock = io(url, { parser: loggingParser('c2s', rec), reconnection: false });
  const got = (s, ev) => new Promise((r) => s.once(ev, (...a) => r(a)));
  const news = got(sock, 'news');
  const blob = got(sock, 'blob');
  await got(sock, 'connect');
  await news;
  await blob;
  await sock.emitWithAck('message', 'over polling');
  if (sock.io.engine.transport.name !== 'websocket') await got(sock.io.engine, 'upgrade');
  const after = got(sock, 'after-upgrade');
  sock.emit('after', 2);
  await after;
  await sleep(400); // ping/pong over WebSocket
  sock.disconnect();
  await sleep(100);
  proxy.close();
  srv.close();
  write(rec, 'socketio-polling.json');
}

async function main() {
  const rec = newRecording('socketio', `socket.io ${require('socket.io/package.json').version}, socket.io-client ${require('socket.io-client/package.json').version}`);
  const httpServer = http.createServer();
  const srv = new Server(httpServer, { transports: ['websocket'], parser: loggingParser('s2c', rec), pingInterval: 150, pingTimeout: 1000 });
  srv.on('connection', (s) => {
    s.on('message', (text, ack) => { if (typeof ack === 'function') ack({ ok: true, echo: text }); });
    s.on('upload', (name, buf, ack) => { ack(buf.length, Buffer.from('thanks')); });
    s.emit('news', { headline: 'x "quoted" \u00e9\n', n: [1, 2.5, null, true] });
    s.emit('files', { a: Buffer.from([0, 1, 2]), list: [Buffer.from('second')] }, 'tail');
  });
  srv.of('/chat').on('connection', (s) => {
    s.on('say', (msg) => s.emit('said', msg));
  });
  srv.of('/private').use((socket, next) => next(new Error('not authorized')));
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const proxy = await startProxy(httpServer.address().port, rec);

  const clientParser = loggingParser('c2s', rec);
  const url = `http://127.0.0.1:${proxy.port}`;
  const sock = io(url, { transports: ['websocket'], parser: clientParser, reconnection: false });
  const got = (s, ev) => new Promise((r) => s.once(ev, (...a) => r(a)));
  const news = got(sock, 'news');
  const files = got(sock, 'files');
  await got(sock, 'connect');
  await news;
  await files;
  sock.emit('message', 'hi');
  await sock.emitWithAck('message', 'with ack');
  await sock.emitWithAck('upload', 'f.bin', Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  const chat = io(`${url}/chat`, { transports: ['websocket'], parser: clientParser, reconnection: false, auth: { token: 'abc' } });
  await got(chat, 'connect');
  const said = got(chat, 'said');
  chat.emit('say', 'hello chat');
  await said;
  const priv = io(`${url}/private`, { transports: ['websocket'], parser: clientParser, reconnection: false });
  await got(priv, 'connect_error');
  await sleep(400); // a couple of Engine.IO ping/pong rounds
  chat.disconnect();
  await sleep(50);
  sock.disconnect();
  await sleep(100);
  proxy.close();
  srv.close();
  write(rec, 'socketio.json');
  await eio3();
  await polling();
  process.exit(0);
}

// `node gen-socketio.js polling` makes only the polling recording.
const only = process.argv[2] === 'polling' ? polling().then(() => process.exit(0)) : main();
only.catch((e) => { console.error(e); process.exit(1); });
