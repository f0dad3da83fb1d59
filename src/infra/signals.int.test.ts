import { afterAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../test/tcp-proxy.js';
import { unique } from '../../test/helpers.js';
import { createRedis } from './redis.js';
import { createSignalBus, type SignalBus } from './signals.js';

/**
 * The Redis fan-out across a Redis outage, through a TCP proxy (the real server is shared with
 * other test files): after Redis hung and came back, hints flow again between two instances, and
 * the outage left no unhandled rejection behind (ioredis' own resubscribe had none of its own).
 */
const redisBase = process.env.TEST_REDIS_URL;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

async function busVia(proxy: TcpProxy, channel: string): Promise<SignalBus> {
  const url = new URL(redisBase ?? '');
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  const redis = await createRedis(url.toString());
  const bus = await createSignalBus({ kind: 'redis', redis, channel });
  cleanups.push(async () => {
    await bus.close();
    redis.disconnect();
  });
  return bus;
}

describe.runIf(redisBase !== undefined)('the Redis signal bus across an outage', () => {
  it('delivers between instances again after Redis hung, with no unhandled rejection', async () => {
    const parsed = new URL(redisBase ?? '');
    const proxy = await startTcpProxy({ host: parsed.hostname, port: Number(parsed.port || 6379) });
    cleanups.push(() => proxy.close());
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    cleanups.push(async () => {
      process.off('unhandledRejection', onRejection);
      await Promise.resolve();
    });

    const channel = unique('medcore:test:signals:');
    const a = await busVia(proxy, channel);
    const b = await busVia(proxy, channel);
    const seen: string[] = [];
    b.subscribe((message) => seen.push(message));
    // Subscribed once connected: a hint from A reaches B.
    expect(await until(() => (a.publish('before'), seen.includes('before')), 5_000)).toBe(true);

    // Redis hangs long enough for every socket to time out and reconnect into the hang.
    await proxy.freeze();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await proxy.pass();
    // Back: B subscribed again on its own, and hints flow.
    expect(await until(() => (a.publish('after'), seen.includes('after')), 10_000)).toBe(true);
    expect(rejections).toEqual([]);
  }, 30_000);
});
