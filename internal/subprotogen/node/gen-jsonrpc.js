'use strict';
// Records json-rpc-2.0 (JSONRPCServerAndClient on both ends, so both sides
// make and answer calls) over ws on 127.0.0.1 through the recording proxy.
// The truth is every payload object the library handed to its send
// callback, in order, per side.
const http = require('http');
const fs = require('fs');
const path = require('path');
const { WebSocketServer, WebSocket } = require('ws');
const { JSONRPCServerAndClient, JSONRPCServer, JSONRPCClient, JSONRPCErrorException } = require('json-rpc-2.0');
const { startProxy, newRecording, plain, write, sleep } = require('./lib');

const version = (pkg) => JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const rec = newRecording('jsonrpc', `json-rpc-2.0 ${version('json-rpc-2.0')}, ws ${version('ws')}`);

function endpoint(ws, dir) {
  let next = 0;
  const peer = new JSONRPCServerAndClient(
    new JSONRPCServer(),
    new JSONRPCClient((payload) => {
      rec.truth.push({ dir, payload: plain(JSON.parse(JSON.stringify(payload))) });
      ws.send(JSON.stringify(payload));
    }, () => ++next),
  );
  ws.on('message', (data) => {
    const text = data.toString();
    peer.receiveAndSend(JSON.parse(text)).catch(() => {});
  });
  ws.on('close', (e) => peer.rejectAllPendingRequests(`closed ${e}`));
  return peer;
}

// receiveAndSend answers requests through the server half and sends the
// responses itself: replace it so those responses are logged as well.
function logResponses(peer, ws, dir) {
  const server = peer.server;
  peer.receiveAndSend = async (payload, ...rest) => {
    if (Array.isArray(payload) ? payload.length && ('method' in payload[0]) : 'method' in payload) {
      const res = await server.receive(payload, ...rest);
      if (res && (!Array.isArray(res) || res.length)) {
        rec.truth.push({ dir, payload: plain(JSON.parse(JSON.stringify(res))) });
        ws.send(JSON.stringify(res));
      }
    } else {
      peer.client.receive(payload);
    }
  };
}

async function main() {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  let serverPeer;
  const ready = new Promise((resolve) => wss.on('connection', (ws) => {
    serverPeer = endpoint(ws, 's2c');
    logResponses(serverPeer, ws, 's2c');
    serverPeer.addMethod('subtract', ([a, b]) => a - b);
    serverPeer.addMethod('echo', (p) => p);
    serverPeer.addMethod('slow', async ({ ms }) => { await sleep(ms); return 'done'; });
    serverPeer.addMethod('fail', () => { throw new JSONRPCErrorException('custom failure', 4001, { why: 'because' }); });
    serverPeer.addMethod('log', () => undefined);
    resolve();
  }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const proxy = await startProxy(server.address().port, rec);
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/rpc`, { perMessageDeflate: false });
  await new Promise((r) => ws.once('open', r));
  const client = endpoint(ws, 'c2s');
  logResponses(client, ws, 'c2s');
  client.addMethod('client.info', () => ({ name: 'gen', version: 1 }));
  await ready;

  await client.request('subtract', [42, 23]);
  await client.request('echo', { text: 'héllo "world"', list: [1, 2, { deep: null }] });
  await client.request('slow', { ms: 30 });
  await client.request('fail').catch(() => {});
  await client.request('missing.method', []).catch(() => {});
  client.notify('log', { level: 'info', msg: 'a notification' });
  await client.client.requestAdvanced([
    { jsonrpc: '2.0', method: 'subtract', params: [5, 3], id: 100 },
    { jsonrpc: '2.0', method: 'log', params: ['in batch'] },
    { jsonrpc: '2.0', method: 'echo', params: ['b'], id: 101 },
  ]);
  await serverPeer.request('client.info', {});
  await sleep(50);
  ws.close();
  await sleep(50);
  proxy.close();
  wss.close();
  server.close();
  write(rec, 'jsonrpc.json');
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
