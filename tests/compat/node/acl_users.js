#!/usr/bin/env node
// node-redis and ioredis logging in as ACL users with their own options
// (username, password): `node acl_users.js <node-redis|ioredis> <port> <prefix>`.
// Prints one JSON line per step: what the library handed the application,
// or the message of the error it raised. The caller runs it against
// redis-server and through the proxy (proxy.auth = "passthrough") and
// compares the lines. The users are the test's: `reader` reads app:* keys,
// `writer` does anything.
'use strict';

const { clientsFor } = require('./clients');

const [, , library, portText, prefix] = process.argv;
const { connect, close, call } = clientsFor(library, Number(portText));

const STEPS = [
  ['SET', `app:${prefix}:k`, 'v'],
  ['GET', `app:${prefix}:k`],
  ['GET', `other:${prefix}:k`],
  ['INCR', `app:${prefix}:n`],
  ['MGET', `app:${prefix}:k`, `other:${prefix}:k`],
  ['HSET', `app:${prefix}:h`, 'f', '1'],
  ['HGETALL', `app:${prefix}:h`],
  ['ACL', 'WHOAMI'],
  ['PING'],
  ['CONFIG', 'GET', 'maxmemory'],
  ['EVAL', "return redis.call('SET', KEYS[1], 'x')", '1', `app:${prefix}:s`],
];

async function outcome(promise) {
  try {
    const value = await promise;
    return { value: value instanceof Map ? [...value] : value };
  } catch (error) {
    return { error: String(error.message) };
  }
}

async function main() {
  for (const [username, password] of [['reader', 'rpw'], ['writer', 'wpw'], ['reader', 'bad']]) {
    let client;
    const login = await outcome(connect({ username, password }).then((c) => { client = c; return 'ok'; }));
    console.log(JSON.stringify({ username, password, login }));
    if (!client) continue;
    for (const step of STEPS) {
      console.log(JSON.stringify({ username, step: step[0], ...(await outcome(call(client, ...step))) }));
    }
    await close(client);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
