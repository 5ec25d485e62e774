'use strict';
// Records byte streams tunnelled through WebSocket the way websockify
// does it: a bridge that turns each WebSocket connection into a TCP
// connection to a real server and sends every TCP chunk as one binary
// message (or as base64 text for the "base64" subprotocol). Through it run
// the ssh2 client and server (SSH), node's tls client and server (TLS with
// a server name), and node's http client and server (HTTP/1.1), each over
// 127.0.0.1 through the recording proxy. The truth is, per direction, the
// tunnelled protocol, what its opening says as the sending side configured
// it (SSH identification, HTTP request/status line, TLS server name), and
// the byte count its endpoint wrote.
const http = require('http');
const net = require('net');
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const { WebSocketServer, WebSocket, createWebSocketStream } = require('ws');
const ssh2 = require('ssh2');
const selfsigned = require('selfsigned');
const { startProxy, newRecording, write, sleep } = require('./lib');

const version = (pkg) => JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;

// bridge is a websockify-like WebSocket-to-TCP bridge to 127.0.0.1:target;
// it counts the bytes the target wrote (s2c) and received (c2s).
async function bridge(target, subprotocol, counts) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, handleProtocols: (p) => (subprotocol && p.has(subprotocol) ? subprotocol : false) });
  wss.on('connection', (ws) => {
    const b64 = ws.protocol === 'base64';
    const sock = net.connect(target, '127.0.0.1');
    const pending = [];
    sock.on('connect', () => { for (const d of pending) sock.write(d); pending.length = 0; });
    sock.on('data', (d) => { counts.s2c += d.length; ws.send(b64 ? d.toString('base64') : d, { binary: !b64 }); });
    ws.on('message', (d) => {
      const buf = b64 ? Buffer.from(d.toString(), 'base64') : Buffer.from(d);
      counts.c2s += buf.length;
      if (sock.connecting) pending.push(buf); else sock.write(buf);
    });
    sock.on('close', () => ws.close());
    sock.on('error', () => ws.close());
    ws.on('close', () => sock.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => { wss.close(); server.close(); } };
}

// clientStream opens the WebSocket side of the tunnel as a duplex stream;
// with base64 it encodes what is written and decodes what arrives.
async function clientStream(port, subprotocol) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/websockify`, subprotocol ? [subprotocol] : [], { perMessageDeflate: false });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  if (subprotocol !== 'base64') return createWebSocketStream(ws);
  const { Duplex } = require('stream');
  const d = new Duplex({
    write(chunk, _, cb) { ws.send(Buffer.from(chunk).toString('base64'), cb); },
    read() {},
    final(cb) { ws.close(); cb(); },
  });
  ws.on('message', (m) => d.push(Buffer.from(m.toString(), 'base64')));
  ws.on('close', () => d.push(null));
  return d;
}

async function record(name, tunnel, subprotocol, targetPort, runClient, info) {
  const rec = newRecording('tunnel', info.library);
  const counts = { c2s: 0, s2c: 0 };
  const br = await bridge(targetPort, subprotocol, counts);
  const proxy = await startProxy(br.port, rec);
  const stream = await clientStream(proxy.port, subprotocol);
  await runClient(stream);
  await sleep(150);
  proxy.close();
  br.close();
  rec.truth.push({ dir: 'c2s', tunnel, info: info.c2s, bytes: counts.c2s });
  rec.truth.push({ dir: 's2c', tunnel, info: info.s2c, bytes: counts.s2c });
  write(rec, name);
}

async function sshTunnel() {
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  const server = new ssh2.Server({ hostKeys: [hostKey], ident: 'wsdissect_server' }, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'password' && ctx.password === 'pw' ? ctx.accept() : ctx.reject(['password'])));
    client.on('ready', () => client.on('session', (accept) => accept().on('exec', (acc, _rej, info) => {
      const ch = acc();
      ch.write(`ran: ${info.command}\n`);
      ch.exit(0);
      ch.end();
    })));
    client.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await record('tunnel-ssh.json', 'ssh', 'binary', server.address().port, (sock) => new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.on('ready', () => c.exec('uptime', (err, ch) => {
      if (err) return reject(err);
      ch.on('data', () => {});
      ch.on('close', () => { c.end(); resolve(); });
    }));
    c.on('error', reject);
    c.connect({ sock, username: 'alice', password: 'pw', ident: 'wsdissect_client' });
  }), { library: `ssh2 ${version('ssh2')} through a websockify-like bridge (ws ${version('ws')})`, c2s: 'SSH-2.0-wsdissect_client', s2c: 'SSH-2.0-wsdissect_server' });
  server.close();
}

async function tlsTunnel() {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'tunnel.test' }], { days: 1, keySize: 2048 });
  const server = tls.createServer({ key: pems.private, cert: pems.cert }, (s) => { s.on('data', (d) => s.end(`echo ${d}`)); s.on('error', () => {}); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await record('tunnel-tls.json', 'tls', '', server.address().port, (socket) => new Promise((resolve, reject) => {
    const c = tls.connect({ socket, servername: 'tunnel.test', rejectUnauthorized: false }, () => c.write('hello through the tunnel'));
    c.on('data', () => {});
    c.on('end', resolve);
    c.on('error', reject);
  }), { library: `node ${process.version} tls through a websockify-like bridge (ws ${version('ws')})`, c2s: 'ClientHello, server name tunnel.test', s2c: 'ServerHello' });
  server.close();
}

async function httpTunnel() {
  const server = http.createServer((req, res) => { res.setHeader('Connection', 'close'); res.end(`you asked for ${req.url}`); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await record('tunnel-http-base64.json', 'http', 'base64', server.address().port, (stream) => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', headers: { Host: 'origin.test' }, path: '/tunnelled?x=1', method: 'GET', createConnection: () => stream }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  }), { library: `node ${process.version} http through a websockify-like bridge, base64 subprotocol (ws ${version('ws')})`, c2s: 'GET /tunnelled?x=1 HTTP/1.1', s2c: 'HTTP/1.1 200 OK' });
  server.close();
}

(async () => {
  await sshTunnel();
  await tlsTunnel();
  await httpTunnel();
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
