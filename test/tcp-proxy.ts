import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'freeze';

/**
 * A TCP proxy that plays a database (or Redis) outage for one app without touching the real
 * server, which other test files share:
 * - pass: bytes flow both ways;
 * - refuse: the listener is closed (connections are refused at once) and every open socket is
 *   destroyed, as when the server process is stopped or restarting;
 * - freeze: connections are accepted and kept open but every byte is dropped, as when the server
 *   hangs (SIGSTOP, a stuck disk, a black-holed network path), the case only timeouts detect.
 */
export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  pass(): Promise<void>;
  refuse(): Promise<void>;
  freeze(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let port = 0;

  const forward = (from: Socket, to: () => Socket | undefined) => {
    // Checked per chunk, so freezing takes effect on connections that are already open.
    from.on('data', (chunk) => {
      if (mode === 'pass') to()?.write(chunk);
    });
  };

  const accept = (client: Socket) => {
    const pair: Pair = { client, upstream: undefined };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', drop).on('close', drop);
    forward(client, () => pair.upstream);
    // A connection accepted while frozen never reaches the server: a hung server never answers.
    if (mode !== 'pass') return;
    const upstream = createConnection(target);
    pair.upstream = upstream;
    upstream.on('error', drop).on('close', drop);
    forward(upstream, () => client);
    // Bytes the client sends before the upstream connects are queued by the socket itself.
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer(accept);
      next.once('error', reject);
      // The same port every time, so the app's DATABASE_URL stays valid across outages.
      next.listen(port, '127.0.0.1', () => {
        server = next;
        const address = next.address();
        if (address !== null && typeof address === 'object') port = address.port;
        resolve();
      });
    });

  const stopListening = async () => {
    const current = server;
    server = undefined;
    if (current) {
      await new Promise<void>((resolve) => {
        current.close(() => {
          resolve();
        });
      });
    }
  };

  const destroyAll = (which: (pair: Pair) => boolean) => {
    for (const pair of [...pairs]) {
      if (!which(pair)) continue;
      pairs.delete(pair);
      pair.client.destroy();
      pair.upstream?.destroy();
    }
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get mode() {
      return mode;
    },
    async pass() {
      // Connections accepted while frozen have no server behind them: a restarted server would
      // not know them either.
      destroyAll((pair) => pair.upstream === undefined);
      mode = 'pass';
      if (!server) await listen();
    },
    async refuse() {
      mode = 'refuse';
      const closing = stopListening();
      destroyAll(() => true);
      await closing;
    },
    async freeze() {
      mode = 'freeze';
      if (!server) await listen();
    },
    async close() {
      mode = 'refuse';
      const closing = stopListening();
      destroyAll(() => true);
      await closing;
    },
  };
}
