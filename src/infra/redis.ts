import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/**
 * Redis with fail-fast settings: commands never queue while disconnected and time out quickly,
 * so a Redis outage degrades features instead of hanging requests.
 */
export async function createRedis(url: string, waitMs = 2_000): Promise<Redis> {
  // ioredis (~20 MB) loads only when REDIS_URL is set: this is its only caller.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 500,
    // A frozen Redis (connected, silent) is dropped and reconnected: without this the timed-out
    // commands stay queued on the socket and later replies would be matched to the wrong ones.
    socketTimeout: 500,
    // Retry at least every second, so features return within about 1 s of Redis coming back.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  // Connection errors are reported by readiness; an unhandled 'error' event would crash the process.
  redis.on('error', () => undefined);
  // Give the first connection a moment so readiness is true from the start; a refused or slow
  // Redis does not block the start (`once` settles on the first error; readiness reports it).
  await Promise.race([once(redis, 'ready').catch(() => undefined), sleep(waitMs)]);
  return redis;
}
