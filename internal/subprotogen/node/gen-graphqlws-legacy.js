'use strict';
// Records subscriptions-transport-ws (the legacy "graphql-ws" subprotocol)
// client and server over WebSocket on 127.0.0.1 through the recording
// proxy. The truth is every message object each side sent: the client's
// sendMessageRaw argument while the socket is open, and the server's
// sendMessage arguments as its legacy-protocol conversion turns them into
// the message it serialises.
const http = require('http');
const fs = require('fs');
const path = require('path');
const ws = require('ws');
const { execute, subscribe, GraphQLSchema, GraphQLObjectType, GraphQLString, GraphQLInt } = require('graphql');
const { SubscriptionServer, SubscriptionClient } = require('subscriptions-transport-ws');
const { parseLegacyProtocolMessage } = require('subscriptions-transport-ws/dist/legacy/parse-legacy-protocol');
const { startProxy, newRecording, plain, write, sleep } = require('./lib');

const version = (pkg) => JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const rec = newRecording('graphql', `subscriptions-transport-ws ${version('subscriptions-transport-ws')}, graphql ${version('graphql')}`);
const log = (dir, msg) => rec.truth.push({ dir, ...plain(JSON.parse(JSON.stringify(msg))) });

const origRaw = SubscriptionClient.prototype.sendMessageRaw;
SubscriptionClient.prototype.sendMessageRaw = function (message) {
  if (this.status === this.wsImpl.OPEN) log('c2s', message);
  return origRaw.call(this, message);
};
const origSend = SubscriptionServer.prototype.sendMessage;
SubscriptionServer.prototype.sendMessage = function (ctx, opId, type, payload) {
  const m = parseLegacyProtocolMessage(ctx, { type, id: opId, payload });
  if (m && ctx.socket.readyState === ws.OPEN) log('s2c', m);
  return origSend.call(this, ctx, opId, type, payload);
};

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      hello: { type: GraphQLString, resolve: () => 'hello legacy' },
      boom: { type: GraphQLString, resolve: () => { throw new Error('boom failed'); } },
    },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      tick: {
        type: GraphQLInt,
        subscribe: async function* () { for (let i = 1; i <= 100; i++) { await sleep(20); yield { tick: i }; } },
      },
    },
  }),
});

async function main() {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const subServer = SubscriptionServer.create({ schema, execute, subscribe, keepAlive: 150, onConnect: (params) => params.token === 'secret' }, { server, path: '/subscriptions' });
  const proxy = await startProxy(server.address().port, rec);
  class WS extends ws.WebSocket { constructor(u, p) { super(u, p, { perMessageDeflate: false }); } }
  const client = new SubscriptionClient(`ws://127.0.0.1:${proxy.port}/subscriptions`, { reconnect: false, connectionParams: { token: 'secret' } }, WS);
  const run = (req) => new Promise((resolve) => {
    const out = [];
    client.request(req).subscribe({ next: (v) => out.push(v), error: resolve, complete: () => resolve(out) });
  });
  await run({ query: 'query Hello { hello }', operationName: 'Hello' });
  await run({ query: '{ boom }' });
  await new Promise((resolve) => {
    let n = 0;
    const sub = client.request({ query: 'subscription Ticks { tick }', variables: { every: 20 } }).subscribe({
      next: () => { if (++n === 3) { sub.unsubscribe(); setTimeout(resolve, 200); } }, error: resolve,
    });
  });
  client.close();
  await sleep(100);
  subServer.close();
  proxy.close();
  server.close();
  write(rec, 'graphqlws-legacy.json');
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
