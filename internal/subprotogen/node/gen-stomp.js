'use strict';
// Records @stomp/stompjs talking STOMP 1.2, 1.1 and 1.0 over WebSocket on
// 127.0.0.1, through the recording proxy, to a small STOMP broker written
// here (with ws) that escapes header values as each version says and sends
// heart-beats (1.1 and 1.2).
// The truth is every frame stompjs serialised (its FrameImpl), its
// heart-beats (its '>>> PING' debug lines), and every frame or heart-beat
// the broker sent, in order.
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');
const { Client, FrameImpl, Versions } = require('@stomp/stompjs');
const fs = require('fs');
const path = require('path');
const { startProxy, newRecording, write, sleep } = require('./lib');

const version = (pkg) => JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;
let rec;
let stompVersion = '1.2';

const origSerialize = FrameImpl.prototype.serialize;
FrameImpl.prototype.serialize = function () {
  const t = { dir: 'c2s', command: this.command, headers: Object.entries(this.headers).map(([k, v]) => [k, String(v)]) };
  if (this.isBinaryBody) t.body_b64 = Buffer.from(this.binaryBody).toString('base64');
  else if (this.body) t.body = this.body;
  rec.truth.push(t);
  return origSerialize.call(this);
};

// ---- the broker
function esc(s) {
  if (stompVersion === '1.0') return s;
  s = s.replace(/\\/g, '\\\\');
  if (stompVersion === '1.2') s = s.replace(/\r/g, '\\r');
  return s.replace(/\n/g, '\\n').replace(/:/g, '\\c');
}
function sendFrame(ws, command, headers, body, binary) {
  const t = { dir: 's2c', command, headers };
  const b = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  if (body !== undefined) {
    if (binary) t.body_b64 = b.toString('base64'); else t.body = String(body);
  }
  rec.truth.push(t);
  const e = command === 'CONNECTED' ? (s) => s : esc;
  const head = command + '\n' + headers.map(([k, v]) => e(k) + ':' + e(v) + '\n').join('') + '\n';
  const frame = Buffer.concat([Buffer.from(head), b, Buffer.from([0])]);
  ws.send(binary ? frame : frame.toString(), { binary: !!binary });
}

function parseFrame(data) {
  const s = Buffer.from(data);
  const nl = s.indexOf('\n\n');
  const lines = s.subarray(0, nl).toString().split('\n');
  const command = lines.shift();
  const headers = {};
  for (const l of lines) { const i = l.indexOf(':'); if (!(l.slice(0, i) in headers)) headers[l.slice(0, i)] = l.slice(i + 1); }
  const body = s.subarray(nl + 2, s.lastIndexOf(0));
  return { command, headers, body };
}

function broker(ws) {
  const subs = new Map();
  let msgId = 0;
  let beat = null;
  ws.on('message', (data, isBinary) => {
    const raw = Buffer.from(data);
    if (raw.length && raw.every((c) => c === 10 || c === 13)) return; // client heart-beat
    const f = parseFrame(raw);
    switch (f.command) {
      case 'CONNECT':
      case 'STOMP':
        if (stompVersion === '1.0') {
          sendFrame(ws, 'CONNECTED', [['session', 's:1']]);
          break;
        }
        sendFrame(ws, 'CONNECTED', [['version', stompVersion], ['heart-beat', '100,100'], ['server', 'wsdissect-gen/1.0'], ['session', 's:1']]);
        beat = setInterval(() => { rec.truth.push({ dir: 's2c', heartbeat: true }); ws.send('\n'); }, 100);
        break;
      case 'SUBSCRIBE':
        subs.set(f.headers.destination, f.headers.id);
        break;
      case 'SEND': {
        if (f.headers.destination === '/queue/forbidden') {
          sendFrame(ws, 'ERROR', [['message', 'no access: /queue/forbidden'], ['content-type', 'text/plain']], 'you may not send there');
          break;
        }
        const sub = subs.get(f.headers.destination);
        if (sub !== undefined) {
          msgId++;
          const note = stompVersion === '1.0' ? 'colon: and \\ backslash, no newline in 1.0' : 'line1\nline2: with colon \\ backslash';
          const h = [['destination', f.headers.destination], ['subscription', sub], ['message-id', `m:${msgId}`],
            ['x-note', note], ['content-length', String(f.body.length)]];
          if (f.headers['content-type']) h.splice(3, 0, ['content-type', f.headers['content-type']]);
          sendFrame(ws, 'MESSAGE', h, f.body, isBinary);
        }
        if (f.headers.receipt) sendFrame(ws, 'RECEIPT', [['receipt-id', f.headers.receipt]]);
        break;
      }
      case 'UNSUBSCRIBE':
        for (const [d, id] of subs) if (id === f.headers.id) subs.delete(d);
        break;
      case 'DISCONNECT':
        clearInterval(beat);
        if (f.headers.receipt) sendFrame(ws, 'RECEIPT', [['receipt-id', f.headers.receipt]]);
        break;
      default:
    }
  });
  ws.on('close', () => clearInterval(beat));
}

async function run(v, file) {
  stompVersion = v;
  rec = newRecording('stomp', `@stomp/stompjs ${version('@stomp/stompjs')} (STOMP ${v}), broker in gen-stomp.js`);
  const proto = `v${v.replace('.', '')}.stomp`;
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, handleProtocols: (p) => (p.has(proto) ? proto : false) });
  wss.on('connection', broker);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const proxy = await startProxy(server.address().port, rec);

  const client = new Client({
    webSocketFactory: () => new WebSocket(`ws://127.0.0.1:${proxy.port}/stomp`, new Versions([v]).protocolVersions(), { perMessageDeflate: false }),
    stompVersions: new Versions([v]),
    connectHeaders: { login: 'guest', passcode: 'guest', host: '/' },
    heartbeatIncoming: 100,
    heartbeatOutgoing: 100,
    reconnectDelay: 0,
    debug: (s) => { if (s === '>>> PING') rec.truth.push({ dir: 'c2s', heartbeat: true }); },
  });
  const connected = new Promise((r) => { client.onConnect = r; });
  client.activate();
  await connected;
  const got = [];
  const sub = client.subscribe('/queue/a', (m) => got.push(m), { ack: 'auto' });
  client.subscribe('/topic/bin', (m) => got.push(m));
  client.publish({ destination: '/queue/a', body: 'hello', headers: { 'content-type': 'text/plain' } });
  const receipt = new Promise((r) => client.watchForReceipt('rcpt-1', r));
  // stompjs escapes header values only for STOMP 1.2, so with 1.1 a
  // newline or backslash would go out raw and break the frame: keep them
  // out of the 1.1 run (1.0 has no escapes, and a backslash is plain there).
  const odd = { '1.2': 'a:b\nc\\d', '1.1': 'a:b c', '1.0': 'a:b c\\d' }[v];
  client.publish({ destination: '/queue/a', body: 'with receipt and an é', headers: { receipt: 'rcpt-1', 'x-odd': odd } });
  await receipt;
  client.publish({ destination: '/topic/bin', binaryBody: new Uint8Array([1, 0, 2, 0, 255]), headers: { 'content-type': 'application/octet-stream' } });
  await sleep(350); // heart-beats both ways
  sub.unsubscribe();
  await sleep(50);
  client.publish({ destination: '/queue/forbidden', body: 'x' });
  await sleep(100);
  await client.deactivate();
  await sleep(100);
  proxy.close();
  wss.close();
  server.close();
  write(rec, file);
}

async function main() {
  await run('1.2', 'stomp.json');
  await run('1.1', 'stomp11.json');
  await run('1.0', 'stomp10.json');
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
