import { Redis } from 'ioredis';

/**
 * Redis with fail-fast settings: commands never queue while disconnected and time out quickly,
 * so a Redis outage degrades features instead of hanging requests.
 */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // Connection errors are reported by readiness; an unhandled 'error' event would crash the process.
  redis.on('error', () => undefined);
  return redis;
}
