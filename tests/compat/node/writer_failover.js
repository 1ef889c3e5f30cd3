#!/usr/bin/env node
// A writer loop through the proxy while the test fails the master over:
// `node writer_failover.js <node-redis|ioredis> <port> <list> <ready-file>`.
// Appends 0, 1, 2, ... to <list> one acknowledged RPUSH at a time (and
// reads each back with LINDEX, pipelined after it), writes <ready-file>
// once it runs, and stops at the first line on stdin. Prints
// {"acked":N,"errors":[...]}: the test checks that <list> on the new master
// is exactly 0..N-1 and that there were no errors.
'use strict';

const fs = require('node:fs');
const readline = require('node:readline');
const { clientsFor } = require('./clients');

const [, , library, portText, list, readyFile] = process.argv;
const { connect, close, call } = clientsFor(library, Number(portText));

async function main() {
  const client = await connect();
  await call(client, 'DEL', list);
  let stop = false;
  const lines = readline.createInterface({ input: process.stdin });
  lines.once('line', () => {
    stop = true;
  });
  let acked = 0;
  const errors = [];
  let stale = 0;
  while (!stop) {
    try {
      const [length, last] = await Promise.all([
        call(client, 'RPUSH', list, String(acked)),
        call(client, 'LINDEX', list, '-1'),
      ]);
      if (Number(length) !== acked + 1) errors.push(`RPUSH answered ${length}, expected ${acked + 1}`);
      if (String(last) !== String(acked)) stale++;
      acked++;
    } catch (error) {
      errors.push(String(error.message || error));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (acked === 20) fs.writeFileSync(readyFile, 'running\n');
    await new Promise((resolve) => setImmediate(resolve));
  }
  console.log(JSON.stringify({ acked, errors: errors.slice(0, 10), errorCount: errors.length, stale }));
  await close(client);
  lines.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.log(JSON.stringify({ fatal: String(error.stack || error) }));
    process.exit(1);
  },
);
