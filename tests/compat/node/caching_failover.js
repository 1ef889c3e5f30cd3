#!/usr/bin/env node
// node-redis 6 client-side caching across a failover, through the proxy:
// `node caching_failover.js <port> <key> <ready-file>`. Caches <key> = v1,
// writes <ready-file>, and waits for a line on stdin: meanwhile the test
// fails the master over and writes v2 through the proxy (to the new
// master, which never saw this client read the key). Then the cached GET
// must return v2: the proxy told the client to drop its cache when the
// connection that tracked its reads went away. Prints one JSON line; exit
// status 1 when a check failed.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const readline = require('node:readline');
const { createClient } = require('redis');

const [, , portText, key, readyFile] = process.argv;
const socket = { host: '127.0.0.1', port: Number(portText), reconnectStrategy: false };

async function main() {
  const cached = createClient({ socket, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } });
  const writer = createClient({ socket });
  cached.on('error', () => {});
  writer.on('error', () => {});
  await cached.connect();
  await writer.connect();
  await writer.set(key, 'v1');
  assert.equal(await cached.get(key), 'v1');
  assert.equal(await cached.get(key), 'v1');
  const hitsBefore = cached.clientSideCache.stats().hitCount;
  assert.ok(hitsBefore >= 1, 'the second GET is served from the cache');
  fs.writeFileSync(readyFile, 'cached\n');
  const lines = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once('line', resolve));
  const afterFailover = await cached.get(key);
  // Tracking works on the new master too.
  assert.equal(await cached.get(key), afterFailover);
  await writer.set(key, 'v3');
  let afterWrite = await cached.get(key);
  for (let i = 0; i < 50 && afterWrite !== 'v3'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    afterWrite = await cached.get(key);
  }
  const result = { afterFailover, afterWrite, hitsBefore };
  console.log(JSON.stringify(result));
  cached.destroy();
  writer.destroy();
  lines.close();
  assert.equal(afterFailover, 'v2', 'a value cached before the failover was served after it');
  assert.equal(afterWrite, 'v3');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.log(JSON.stringify({ error: String(error.stack || error) }));
    process.exit(1);
  },
);
