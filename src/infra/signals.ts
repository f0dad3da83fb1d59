import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { connectPgClient } from '../db/pg-pool.js';

/**
 * A one-channel broadcast to every instance: "something new is in a table, go and read it".
 * Messages are hints, never data (the table is the truth, and a lost hint only costs latency,
 * since readers also poll). Redis pub/sub when REDIS_URL is set, PostgreSQL LISTEN/NOTIFY on a
 * PostgreSQL server, in-process on the embedded database (one process). A message reaches the
 * instance that sent it at once, without the round trip, and once only.
 */
export interface SignalBus {
  readonly kind: 'memory' | 'redis' | 'postgres';
  publish(message: string): void;
  subscribe(listener: (message: string) => void): () => void;
  close(): Promise<void>;
}

export type SignalBusOptions =
  | { kind: 'memory' }
  | { kind: 'redis'; redis: Redis; channel: string }
  | { kind: 'postgres'; url: string; channel: string; connectMs: number };

export async function createSignalBus(options: SignalBusOptions): Promise<SignalBus> {
  const local = new EventEmitter();
  local.setMaxListeners(0);
  const self = randomUUID();
  const deliver = (raw: string) => {
    // Our own messages were delivered locally already.
    const at = raw.indexOf(' ');
    if (at < 0 || raw.slice(0, at) === self) return;
    local.emit('message', raw.slice(at + 1));
  };
  let remote: { send(raw: string): void; close(): Promise<void> } | undefined;
  if (options.kind === 'redis') remote = await redisRemote(options.redis, options.channel, deliver);
  if (options.kind === 'postgres') remote = await pgRemote(options, deliver);
  return {
    kind: options.kind,
    publish(message) {
      local.emit('message', message);
      remote?.send(`${self} ${message}`);
    },
    subscribe(listener) {
      local.on('message', listener);
      return () => local.off('message', listener);
    },
    async close() {
      local.removeAllListeners();
      await remote?.close();
    },
  };
}

/**
 * A subscriber needs its own connection. It subscribes on every 'ready' (the first connection
 * and each reconnect) rather than through ioredis' autoResubscribe, which sends SUBSCRIBE without
 * a catch: on a Redis that accepts but does not answer, that command's timeout was an unhandled
 * rejection (seen in CI during the frozen-Redis outage test).
 */
async function redisRemote(redis: Redis, channel: string, deliver: (raw: string) => void) {
  const subscriber = redis.duplicate({
    enableOfflineQueue: true,
    lazyConnect: true,
    autoResubscribe: false,
  });
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_channel: string, raw: string) => {
    deliver(raw);
  });
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).catch(() => undefined);
  });
  // A Redis down at start must not stop the start: 'ready' subscribes once it is up.
  subscriber.connect().catch(() => undefined);
  return {
    send(raw: string) {
      // Fire and forget: a hint lost during a Redis outage costs one poll interval.
      redis.publish(channel, raw).catch(() => undefined);
    },
    async close() {
      subscriber.disconnect();
      await Promise.resolve();
    },
  };
}

/**
 * One dedicated connection LISTENs (a pooled one would be handed to requests); it reconnects
 * after losing the server, every second until it is back.
 */
async function pgRemote(
  options: { url: string; channel: string; connectMs: number },
  deliver: (raw: string) => void,
) {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async () => {
    try {
      const next = await connectPgClient(options.url, {
        applicationName: 'medcore-listen',
        connectMs: options.connectMs,
        queryMs: 5_000,
        statementMs: 0,
      });
      next.on('notification', (message) => {
        if (message.payload !== undefined) deliver(message.payload);
      });
      next.on('error', () => {
        reconnect(next);
      });
      next.on('end', () => {
        reconnect(next);
      });
      await next.query(`LISTEN ${options.channel}`);
      if (closed) await next.end();
      else client = next;
    } catch {
      schedule();
    }
  };
  const schedule = () => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1_000);
    retry.unref();
  };
  const reconnect = (lost: pg.Client) => {
    if (client !== lost) return;
    client = undefined;
    lost.end().catch(() => undefined);
    schedule();
  };
  await connect();
  return {
    send(raw: string) {
      client?.query('SELECT pg_notify($1, $2)', [options.channel, raw]).catch(() => undefined);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
