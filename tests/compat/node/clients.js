// One interface over node-redis and ioredis, in each library's own idiom,
// for the scenario scripts: connect(options), close(client), call(client, ...args).
'use strict';

function clientsFor(library, port) {
  async function connect(options = {}) {
    if (library === 'node-redis') {
      const { createClient } = require('redis');
      const client = createClient({
        socket: { host: '127.0.0.1', port, reconnectStrategy: false },
        database: options.db,
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
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
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

module.exports = { clientsFor };
