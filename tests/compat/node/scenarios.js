#!/usr/bin/env node
// The scenarios a RESP3 client library runs, through the proxy and against
// redis-server directly: `node scenarios.js <node-redis|ioredis> <port> <prefix>`.
// Each scenario checks what the library must see and records the values it
// got (types included: RESP3 maps, doubles, sets) as one JSON line on
// stdout, so that the caller can compare the two runs line by line. Exit
// status 1 when a check failed. Keys start with <prefix> so that runs do not
// see each other's data.
'use strict';

const assert = require('node:assert/strict');
const { clientsFor, nodeRedisSocket } = require('./clients');

const [, , library, portText, prefix] = process.argv;
const port = Number(portText);
const key = (name) => `${prefix}:${name}`;
const { connect, close, call } = clientsFor(library, port);

// Sorts by the JSON text: typed values are objects, which sort() alone
// would compare as the same string "[object Object]".
const byJson = (values) =>
  values
    .map((v) => JSON.stringify(v))
    .sort()
    .map((v) => JSON.parse(v));

/* A JSON form of a reply that keeps what RESP3 adds: the difference
 * between a map, a set and an array, and between a double and a string. */
function typed(value) {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return { buffer: value.toString('hex') };
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [typed(k), typed(v)]) };
  if (value instanceof Set) return { set: byJson([...value].map(typed)) };
  if (Array.isArray(value)) return value.map(typed);
  if (typeof value === 'object') {
    return { object: Object.entries(value).map(([k, v]) => [k, typed(v)]) };
  }
  return { [typeof value]: value };
}

/* A set's members in a fixed order. Redis orders a hashtable-encoded set
 * by a hash whose seed is random per process, so the same SADD gives one
 * order on the master and another on a replica or a second server; ioredis
 * hands the members over as an array, in that order. */
function unordered(value) {
  const members = typed(value);
  return Array.isArray(members) ? byJson(members) : members;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const scenarios = {
  async hello(client) {
    // The protocol each library negotiated: RESP3 for both by default.
    const hello = await call(client, 'HELLO');
    const fields = hello instanceof Map ? Object.fromEntries(hello) : hello;
    const proto = Array.isArray(fields) ? fields[fields.indexOf('proto') + 1] : fields.proto;
    return { proto };
  },

  async pipeline(client) {
    const counter = key('pipeline');
    await call(client, 'DEL', counter);
    const replies = await Promise.all(
      Array.from({ length: 1000 }, () => call(client, 'INCR', counter)),
    );
    replies.forEach((reply, i) => assert.equal(Number(reply), i + 1));
    return { last: replies[999] };
  },

  async types(client) {
    // Replies whose RESP3 shape differs from RESP2.
    const hash = key('hash');
    const zset = key('zset');
    const set = key('set');
    await call(client, 'DEL', hash, zset, set);
    await call(client, 'HSET', hash, 'a', '1', 'b', '2');
    await call(client, 'ZADD', zset, '1.5', 'x', '2', 'y');
    await call(client, 'SADD', set, 'm', 'n');
    return {
      hgetall: typed(await call(client, 'HGETALL', hash)),
      zscore: typed(await call(client, 'ZSCORE', zset, 'x')),
      zrange: typed(await call(client, 'ZRANGE', zset, '0', '-1', 'WITHSCORES')),
      smembers: unordered(await call(client, 'SMEMBERS', set)),
      hrandfield: typed(await call(client, 'HRANDFIELD', hash, '-1', 'WITHVALUES')).length,
      configGet: typed(await call(client, 'CONFIG', 'GET', 'maxmemory-policy')),
      missing: typed(await call(client, 'GET', key('missing'))),
      exists: typed(await call(client, 'EXISTS', hash)),
      xadd: typeof (await call(client, 'XADD', key('stream'), '*', 'f', 'v')),
      info: /# Server/.test(String(await call(client, 'INFO', 'server'))),
    };
  },

  async transaction(client) {
    const k = key('txn');
    const replies =
      library === 'node-redis'
        ? await client.multi().set(k, '1').incr(k).get(k).exec()
        : (await client.multi().set(k, '1').incr(k).get(k).exec()).map(([error, reply]) => {
            assert.equal(error, null);
            return reply;
          });
    assert.deepEqual(replies.map(String), ['OK', '2', '2']);
    return { replies: typed(replies) };
  },

  async watchConflict(client) {
    const k = key('watched');
    const other = await connect();
    await call(client, 'SET', k, 'before');
    await call(client, 'WATCH', k);
    await call(other, 'SET', k, 'touched');
    let aborted;
    if (library === 'node-redis') {
      try {
        await client.multi().set(k, 'mine').exec();
        aborted = false;
      } catch (error) {
        aborted = error.constructor.name === 'WatchError';
      }
    } else {
      aborted = (await client.multi().set(k, 'mine').exec()) === null;
    }
    await close(other);
    assert.equal(aborted, true, 'EXEC after a touched WATCH must abort');
    assert.equal(String(await call(client, 'GET', k)), 'touched');
    return { aborted };
  },

  async blockingPop(client) {
    const list = key('list');
    await call(client, 'DEL', list);
    const blocked = await connect();
    const popped = call(blocked, 'BLPOP', list, '5');
    await sleep(100);
    await call(client, 'LPUSH', list, 'item');
    const reply = await popped;
    await close(blocked);
    assert.deepEqual(reply.map(String), [list, 'item']);
    return { reply: typed(reply) };
  },

  async pubsub(client) {
    // RESP3: a subscribed connection still runs commands.
    const subscriber = await connect();
    const messages = [];
    const channel = key('channel');
    if (library === 'node-redis') {
      await subscriber.subscribe(channel, (message, from) => messages.push([from, message]));
      await subscriber.pSubscribe(`${key('pattern')}:*`, (message, from) =>
        messages.push([from, message]),
      );
    } else {
      subscriber.on('message', (from, message) => messages.push([from, message]));
      subscriber.on('pmessage', (pattern, from, message) => messages.push([from, message]));
      await subscriber.subscribe(channel);
      await subscriber.psubscribe(`${key('pattern')}:*`);
    }
    await call(subscriber, 'SET', key('from-subscriber'), 'yes');
    const read = String(await call(subscriber, 'GET', key('from-subscriber')));
    assert.equal(read, 'yes');
    const receivers = Number(await call(client, 'PUBLISH', channel, 'one'));
    await call(client, 'PUBLISH', `${key('pattern')}:x`, 'two');
    const pong = String(await call(subscriber, 'PING'));
    for (let i = 0; i < 50 && messages.length < 2; i++) await sleep(20);
    await close(subscriber);
    assert.equal(receivers, 1);
    assert.deepEqual(messages, [
      [channel, 'one'],
      [`${key('pattern')}:x`, 'two'],
    ]);
    return { read, receivers, pong, messages };
  },

  async scan(client) {
    const keys = Array.from({ length: 300 }, (_, i) => key(`scan:${i}`));
    await call(client, 'MSET', ...keys.flatMap((k) => [k, 'v']));
    const seen = new Set();
    let cursor = '0';
    do {
      const [next, batch] = await call(client, 'SCAN', cursor, 'MATCH', key('scan:*'), 'COUNT', '50');
      cursor = String(next);
      batch.forEach((k) => seen.add(String(k)));
    } while (cursor !== '0');
    assert.equal(seen.size, keys.length);
    return { keys: seen.size };
  },

  async scripts(client) {
    const hash = key('script-hash');
    await call(client, 'HSET', hash, 'f', 'v');
    const plain = await call(client, 'EVAL', "return redis.call('GET', KEYS[1])", '1', key('missing'));
    // A script that speaks RESP3 to Redis returns RESP3 types.
    const resp3 = await call(
      client,
      'EVAL',
      "redis.setresp(3); return redis.call('HGETALL', KEYS[1])",
      '1',
      hash,
    );
    const sha = String(await call(client, 'SCRIPT', 'LOAD', 'return ARGV[1]'));
    const bySha = String(await call(client, 'EVALSHA', sha, '0', 'hello'));
    assert.equal(bySha, 'hello');
    return { plain: typed(plain), resp3: typed(resp3), bySha };
  },

  async select(client) {
    const other = await connect({ db: 3 });
    await call(other, 'SET', key('db3'), 'three');
    const inDb3 = String(await call(other, 'GET', key('db3')));
    await close(other);
    const inDb0 = await call(client, 'GET', key('db3'));
    assert.equal(inDb3, 'three');
    assert.equal(inDb0, null);
    return { inDb3, inDb0 };
  },

  async largeValue(client) {
    const value = 'x'.repeat(8 * 1024 * 1024);
    await call(client, 'SET', key('large'), value);
    const back = await call(client, 'GET', key('large'));
    assert.equal(back.length, value.length);
    return { length: back.length };
  },

  async clientCaching() {
    // Client-side caching: node-redis keeps a cache that Redis's
    // invalidation pushes clear (CLIENT TRACKING on the connection).
    if (library !== 'node-redis') {
      const tracking = await connect();
      const on = String(await call(tracking, 'CLIENT', 'TRACKING', 'ON', 'NOLOOP'));
      await call(tracking, 'GET', key('cached'));
      await close(tracking);
      return { on };
    }
    const { createClient } = require('redis');
    const cached = createClient({
      socket: nodeRedisSocket(port),
      RESP: 3,
      clientSideCache: { ttl: 0, maxEntries: 0 },
    });
    cached.on('error', () => {});
    await cached.connect();
    const writer = await connect();
    const k = key('cached');
    await call(writer, 'SET', k, 'v1');
    const first = await cached.get(k);
    const second = await cached.get(k);
    const hits = cached.clientSideCache.stats().hitCount;
    await call(writer, 'SET', k, 'v2');
    let after = await cached.get(k);
    for (let i = 0; i < 50 && after !== 'v2'; i++) {
      await sleep(10);
      after = await cached.get(k);
    }
    await close(writer);
    cached.destroy();
    assert.deepEqual([first, second, after], ['v1', 'v1', 'v2']);
    assert.ok(hits >= 1, 'the second GET is served from the cache');
    return { first, second, after, cachedHit: hits >= 1 };
  },

  async binaryKeys(client) {
    const binary = Buffer.from([0, 255, 13, 10, 36, 42, 0]);
    const k = Buffer.concat([Buffer.from(key('bin')), binary]);
    if (library === 'node-redis') {
      await client.sendCommand([Buffer.from('SET'), k, binary]);
      const back = await client.sendCommand([Buffer.from('GET'), k], { typeMapping: { 36: Buffer } });
      assert.ok(Buffer.from(back).equals(binary));
    } else {
      await client.set(k, binary);
      const back = await client.getBuffer(k);
      assert.ok(back.equals(binary));
    }
    return { length: binary.length };
  },
};

async function main() {
  const client = await connect();
  const only = process.env.SCENARIOS ? process.env.SCENARIOS.split(',') : Object.keys(scenarios);
  let failed = false;
  for (const name of only) {
    try {
      const result = await scenarios[name](client);
      console.log(JSON.stringify({ scenario: name, ok: true, result }));
    } catch (error) {
      failed = true;
      console.log(JSON.stringify({ scenario: name, ok: false, error: String(error.stack || error) }));
    }
  }
  await close(client);
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.log(JSON.stringify({ scenario: 'connect', ok: false, error: String(error.stack || error) }));
  process.exit(1);
});
