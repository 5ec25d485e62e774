'use strict';
// Shared parts of the generators: a recording WebSocket proxy on 127.0.0.1
// that sits between a real client library and a real server library and
// logs every message payload each side sent (the ws library's 'message'
// events), in order, and the writer of the test vector files.
const http = require('http');
const fs = require('fs');
const path = require('path');
const { WebSocketServer, WebSocket } = require('ws');

// startProxy listens on 127.0.0.1 and forwards each WebSocket connection to
// 127.0.0.1:targetPort with the same request URL and offered subprotocols,
// answering the client with the subprotocol the server chose. Every message
// is logged to rec.messages as {dir, opcode, b64} in the order the proxy
// received it; rec.url and rec.subprotocol keep the handshake.
function startProxy(targetPort, rec) {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => {
    if (++rec.connections > 1) throw new Error('a recording holds one WebSocket connection; the client opened another');
    const offered = (req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim()).filter(Boolean);
    const up = new WebSocket(`ws://127.0.0.1:${targetPort}${req.url}`, offered, { perMessageDeflate: false });
    const early = [];
    up.on('message', (data, isBinary) => early.push([data, isBinary]));
    up.on('error', () => socket.destroy());
    up.once('open', () => {
      rec.url = req.url;
      rec.subprotocol = up.protocol || '';
      wss.handleUpgrade(req, socket, head, (down) => {
        const fwd = (dir, to) => (data, isBinary) => {
          const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data);
          rec.messages.push({ dir, opcode: isBinary ? 2 : 1, b64: buf.toString('base64') });
          if (to.readyState === WebSocket.OPEN) to.send(buf, { binary: isBinary });
        };
        up.removeAllListeners('message');
        const s2c = fwd('s2c', down);
        for (const [d, b] of early) s2c(d, b);
        up.on('message', s2c);
        down.on('message', fwd('c2s', up));
        down.on('close', () => up.close());
        up.on('close', () => down.close());
      });
    });
  });
  // Plain HTTP requests (Engine.IO long-polling) are forwarded as they are
  // and logged to rec.polling as {seq, method, url, status, req_b64,
  // resp_b64} when their response ends; seq is the number of WebSocket
  // messages logged before, which places the exchange among them.
  server.on('request', (req, res) => {
    const body = [];
    req.on('data', (c) => body.push(c));
    req.on('end', () => {
      const reqBody = Buffer.concat(body);
      const headers = { ...req.headers };
      delete headers['content-length'];
      if (reqBody.length > 0) headers['content-length'] = String(reqBody.length);
      const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (ur) => {
        const chunks = [];
        ur.on('data', (c) => chunks.push(c));
        ur.on('end', () => {
          const respBody = Buffer.concat(chunks);
          rec.polling.push({ seq: rec.messages.length, method: req.method, url: req.url, status: ur.statusCode,
            content_type: ur.headers['content-type'] || '', req_b64: reqBody.toString('base64'), resp_b64: respBody.toString('base64') });
          const h = { ...ur.headers };
          delete h['transfer-encoding'];
          h['content-length'] = String(respBody.length);
          res.writeHead(ur.statusCode, h);
          res.end(respBody);
        });
      });
      up.on('error', () => res.destroy());
      up.end(reqBody);
    });
  });
  wss.on('headers', () => {});
  // the chosen subprotocol is the upstream one
  wss.options.handleProtocols = (protocols) => {
    for (const p of protocols) if (p === rec.subprotocol) return p;
    return false;
  };
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => { wss.close(); server.close(); server.closeAllConnections && server.closeAllConnections(); } })));
}

function newRecording(protocol, library) {
  const rec = { protocol, library, url: '', subprotocol: '', messages: [], truth: [] };
  // long-polling exchanges, when the recording has them (see startProxy)
  Object.defineProperty(rec, 'polling', { value: [], writable: true, enumerable: false });
  Object.defineProperty(rec, 'connections', { value: 0, writable: true, enumerable: false });
  return rec;
}

// b64 turns Buffers inside a value into {"_binary": base64} (the form the
// Go decoder gives attachments) so truth files are plain JSON.
function plain(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { _binary: Buffer.from(v).toString('base64') };
  if (v instanceof ArrayBuffer) return { _binary: Buffer.from(new Uint8Array(v)).toString('base64') };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) if (v[k] !== undefined) o[k] = plain(v[k]);
    return o;
  }
  return v;
}

function write(rec, file) {
  if (rec.polling.length > 0) rec = { ...rec, polling: rec.polling };
  const out = path.resolve(__dirname, '../../../testdata/subproto', file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(rec, null, 1) + '\n');
  console.log(`${out}: ${rec.messages.length} messages, ${(rec.polling || []).length} polling exchanges, ${rec.truth.length} truth records`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { startProxy, newRecording, plain, write, sleep };
