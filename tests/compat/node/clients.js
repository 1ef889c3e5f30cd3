// One interface over node-redis and ioredis, in each library's own idiom,
// for the scenario scripts: connect(options), close(client), call(client, ...args).
// With RHP_TLS_DIR set (scripts/test_certs.sh's files), every connection is
// TLS, through each library's own TLS options.
'use strict';

const fs = require('node:fs');

function tlsFiles() {
  const dir = process.env.RHP_TLS_DIR;
  if (!dir) return null;
  const read = (name) => fs.readFileSync(`${dir}/${name}`);
  return { ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') };
}

// node-redis's socket options for 127.0.0.1:port.
function nodeRedisSocket(port) {
  const tls = tlsFiles();
  return { host: '127.0.0.1', port, reconnectStrategy: false, ...(tls ? { tls: true, ...tls } : {}) };
}

function clientsFor(library, port) {
  async function connect(options = {}) {
    if (library === 'node-redis') {
      const { createClient } = require('redis');
      const client = createClient({
        socket: nodeRedisSocket(port),
        database: options.db,
        username: options.username,
        password: options.password,
      });
      client.on('error', () => {});
      await client.connect();
      return client;
    }
    const Redis = require('ioredis');
    const client = new Redis({
      host: '127.0.0.1',
      port,
      db: options.db ?? 0,
      username: options.username,
      password: options.password,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
      ...(tlsFiles() ? { tls: tlsFiles() } : {}),
    });
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  async function close(client) {
    if (library === 'node-redis') {
      client.destroy();
    } else {
      client.disconnect();
    }
  }

  function call(client, ...args) {
    if (library === 'node-redis') return client.sendCommand(args.map(String));
    return client.call(...args);
  }

  return { connect, close, call };
}

module.exports = { clientsFor, nodeRedisSocket };
