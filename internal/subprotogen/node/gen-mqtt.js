'use strict';
// Records mqtt.js talking MQTT over WebSocket on 127.0.0.1 through the
// recording proxy: MQTT 3.1.1 against the aedes broker (mqtt.json), and
// MQTT 5.0 against a small broker built on mqtt-packet, the packet library
// both mqtt.js and aedes use (mqtt5.json; aedes speaks 3.1.1 only). The
// truth is every packet object either side handed to mqtt-packet's
// writeToStream, in order.
const http = require('http');
const mqttPacket = require('mqtt-packet');
const { WebSocketServer, createWebSocketStream } = require('ws');
const fs = require('fs');
const path = require('path');
const { startProxy, newRecording, plain, write, sleep } = require('./lib');

const version = (pkg) => JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;

const serverStreams = new WeakSet();
let current = null;
const origWrite = mqttPacket.writeToStream;
mqttPacket.writeToStream = function (packet, stream, opts) {
  if (current) current.truth.push(truthOf(packet, serverStreams.has(stream) ? 's2c' : 'c2s'));
  return origWrite.call(this, packet, stream, opts);
};
mqttPacket.writeToStream.cacheNumbers = origWrite.cacheNumbers;

const fields = ['cmd', 'protocolId', 'protocolVersion', 'clientId', 'keepalive', 'clean', 'username', 'password', 'will',
  'sessionPresent', 'returnCode', 'reasonCode', 'topic', 'payload', 'qos', 'retain', 'dup', 'messageId',
  'subscriptions', 'unsubscriptions', 'granted', 'properties'];

function truthOf(p, dir) {
  const t = { dir };
  for (const f of fields) {
    if (p[f] === undefined || p[f] === null) continue;
    t[f] = plain(p[f]);
  }
  if (typeof p.payload === 'string') t.payload = { _binary: Buffer.from(p.payload).toString('base64') };
  return t;
}

async function listen(onStream) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const stream = createWebSocketStream(ws);
    serverStreams.add(stream);
    onStream(stream);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => { wss.close(); server.close(); } };
}

async function scenario(client, v5) {
  const mqtt = client;
  await new Promise((r) => mqtt.once('connect', r));
  await mqtt.subscribeAsync({ 'sensors/#': { qos: 1 }, chat: { qos: 2 } });
  await mqtt.publishAsync('sensors/t1', '21.5', { qos: 0 });
  await mqtt.publishAsync('sensors/t2', Buffer.from([0, 0xff, 0x10, 0x80]), { qos: 1, retain: true });
  await mqtt.publishAsync('chat', 'exactly once', { qos: 2, ...(v5 ? { properties: { contentType: 'text/plain', userProperties: { k: 'v' } } } : {}) });
  await mqtt.publishAsync('sensors/big', Buffer.alloc(20000, 0x61), { qos: 1 });
  await sleep(200);
  await mqtt.unsubscribeAsync('chat');
  await sleep(1300); // keepalive 1 s: a PINGREQ/PINGRESP
  await mqtt.endAsync();
  await sleep(100);
}

async function mqtt311() {
  const { Aedes } = await import('aedes');
  const mqtt = require('mqtt');
  const rec = newRecording('mqtt', `mqtt.js ${version('mqtt')}, aedes ${version('aedes')}`);
  current = rec;
  const broker = await Aedes.createBroker();
  const srv = await listen((stream) => broker.handle(stream));
  const proxy = await startProxy(srv.port, rec);
  const client = mqtt.connect(`ws://127.0.0.1:${proxy.port}/mqtt`, {
    protocolVersion: 4, clientId: 'wsdissect-311', keepalive: 1, username: 'alice', password: 'secret', reconnectPeriod: 0,
    will: { topic: 'status/wsdissect', payload: Buffer.from('gone'), qos: 1, retain: false },
    wsOptions: { perMessageDeflate: false },
  });
  await scenario(client, false);
  current = null;
  proxy.close();
  srv.close();
  await broker.close();
  write(rec, 'mqtt.json');
}

// A broker for MQTT 5.0 made of mqtt-packet's parser and writer: enough
// for one client's CONNECT, SUBSCRIBE, PUBLISH at QoS 0-2 (echoed to the
// client when it matches a subscription), UNSUBSCRIBE, PINGREQ, DISCONNECT.
function miniBroker5(stream) {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const opts = { protocolVersion: 5 };
  const subs = new Map();
  let nextId = 1;
  const send = (p) => mqttPacket.writeToStream(p, stream, opts);
  const matches = (filter, topic) => {
    const f = filter.split('/'); const t = topic.split('/');
    for (let i = 0; i < f.length; i++) {
      if (f[i] === '#') return true;
      if (f[i] !== '+' && f[i] !== t[i]) return false;
    }
    return f.length === t.length;
  };
  parser.on('packet', (p) => {
    switch (p.cmd) {
      case 'connect':
        send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { topicAliasMaximum: 10, assignedClientIdentifier: 'assigned-1', maximumPacketSize: 1 << 20 } });
        break;
      case 'subscribe':
        for (const s of p.subscriptions) subs.set(s.topic, s.qos);
        send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map((s) => s.qos), properties: { reasonString: 'ok' } });
        break;
      case 'unsubscribe':
        for (const t of p.unsubscriptions) subs.delete(t);
        send({ cmd: 'unsuback', messageId: p.messageId, granted: p.unsubscriptions.map(() => 0) });
        break;
      case 'publish':
        if (p.qos === 1) send({ cmd: 'puback', messageId: p.messageId, reasonCode: 0 });
        if (p.qos === 2) send({ cmd: 'pubrec', messageId: p.messageId, reasonCode: 0 });
        for (const [f, q] of subs) {
          if (!matches(f, p.topic)) continue;
          const qos = Math.min(q, p.qos);
          const out = { cmd: 'publish', topic: p.topic, payload: p.payload, qos, retain: false, dup: false, properties: p.properties };
          if (qos > 0) out.messageId = nextId++;
          send(out);
          break;
        }
        break;
      case 'pubrel':
        send({ cmd: 'pubcomp', messageId: p.messageId, reasonCode: 0 });
        break;
      case 'pubrec':
        send({ cmd: 'pubrel', messageId: p.messageId, reasonCode: 0 });
        break;
      case 'pingreq':
        send({ cmd: 'pingresp' });
        break;
      default:
    }
  });
  stream.on('data', (d) => parser.parse(d));
  stream.on('error', () => {});
}

async function mqtt5() {
  const mqtt = require('mqtt');
  const rec = newRecording('mqtt', `mqtt.js ${version('mqtt')}, mqtt-packet ${version('mqtt-packet')} broker`);
  current = rec;
  const srv = await listen(miniBroker5);
  const proxy = await startProxy(srv.port, rec);
  const client = mqtt.connect(`ws://127.0.0.1:${proxy.port}/mqtt`, {
    protocolVersion: 5, clientId: '', keepalive: 1, reconnectPeriod: 0, clean: true,
    properties: { sessionExpiryInterval: 60, receiveMaximum: 20, userProperties: { app: 'wsdissect' } },
    wsOptions: { perMessageDeflate: false },
  });
  await scenario(client, true);
  current = null;
  proxy.close();
  srv.close();
  write(rec, 'mqtt5.json');
}

(async () => {
  await mqtt311();
  await mqtt5();
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
