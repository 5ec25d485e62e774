'use strict';
// Records the graphql-ws client and server (graphql-transport-ws protocol)
// over WebSocket on 127.0.0.1 through the recording proxy. The truth is
// every message object each side serialised: both libraries take a
// jsonMessageReplacer, which JSON.stringify calls first with the key ""
// and the whole message.
const http = require('http');
const fs = require('fs');
const path = require('path');
const { WebSocketServer, WebSocket } = require('ws');
const { createClient } = require('graphql-ws');
const { useServer } = require('graphql-ws/use/ws');
const { buildSchema, GraphQLSchema, GraphQLObjectType, GraphQLString, GraphQLInt, GraphQLNonNull } = require('graphql');
const { startProxy, newRecording, plain, write, sleep } = require('./lib');

const version = (pkg) => JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const rec = newRecording('graphql', `graphql-ws ${version('graphql-ws')}, graphql ${version('graphql')}`);

const logger = (dir) => function (key, value) {
  if (key === '' && value && typeof value === 'object' && 'type' in value) rec.truth.push({ dir, ...plain(JSON.parse(JSON.stringify(value))) });
  return value;
};

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      hello: { type: GraphQLString, args: { name: { type: GraphQLString } }, resolve: (_, a) => `hello ${a.name || 'world'}` },
      boom: { type: GraphQLString, resolve: () => { throw new Error('boom failed'); } },
    },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      count: {
        type: GraphQLInt,
        args: { to: { type: new GraphQLNonNull(GraphQLInt) } },
        subscribe: async function* (_, { to }) { for (let i = 1; i <= to; i++) { await sleep(10); yield { count: i }; } },
      },
    },
  }),
});
void buildSchema;

async function main() {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const disposable = useServer({ schema, jsonMessageReplacer: logger('s2c'), onConnect: (ctx) => ctx.connectionParams?.token === 'secret' }, wss);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const proxy = await startProxy(server.address().port, rec);
  class WS extends WebSocket { constructor(u, p) { super(u, p, { perMessageDeflate: false }); } }
  const client = createClient({
    url: `ws://127.0.0.1:${proxy.port}/graphql`,
    webSocketImpl: WS,
    connectionParams: { token: 'secret' },
    jsonMessageReplacer: logger('c2s'),
    lazy: false,
    retryAttempts: 0,
  });
  const run = (payload) => new Promise((resolve) => {
    const out = [];
    client.subscribe(payload, { next: (v) => out.push(v), error: (e) => resolve(e), complete: () => resolve(out) });
  });
  await run({ query: 'query Greet($n: String) { hello(name: $n) }', variables: { n: 'wsdissect' }, operationName: 'Greet' });
  await run({ query: '{ hello }' });
  await run({ query: 'query Bad { boom }' });
  await run({ query: 'subscription Count($to: Int!) { count(to: $to) }', variables: { to: 3 } });
  await run({ query: 'query { nope }' }); // validation error: an error message
  // a subscription the client stops early: the client sends complete
  await new Promise((resolve) => {
    let n = 0;
    const stop = client.subscribe({ query: 'subscription Long { count(to: 100) }' }, {
      next: () => { if (++n === 2) { stop(); setTimeout(resolve, 50); } }, error: resolve, complete: () => {},
    });
  });
  await client.dispose();
  await sleep(100);
  await disposable.dispose();
  proxy.close();
  server.close();
  write(rec, 'graphqlws.json');
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
