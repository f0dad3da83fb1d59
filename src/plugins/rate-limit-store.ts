import { createRequire } from 'node:module';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

/** What @fastify/rate-limit asks of a store (its `FastifyRateLimitStore`, minus `child`). */
export interface Counter {
  current: number;
  ttl: number;
}
type Callback = (error: Error | null, result?: Counter) => void;
interface CounterStore {
  incr(key: string, cb: Callback, timeWindow: number, max: number): void;
}
type LocalStoreCtor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache?: number,
) => CounterStore;
type RedisStoreCtor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
  prefix: string,
) => CounterStore;

// The library's own two stores (an atomic Lua INCR+PEXPIRE, and an LRU of fixed windows) are not in
// its typed exports, so they are loaded by path; the version is pinned and the tests exercise both.
const require = createRequire(import.meta.url);
const LocalStore = require('@fastify/rate-limit/store/LocalStore') as LocalStoreCtor;
const RedisStore = require('@fastify/rate-limit/store/RedisStore') as RedisStoreCtor;

/** Keys remembered in memory (per instance); the least recently seen are forgotten first. */
const LOCAL_KEYS = 10_000;
/**
 * Our own deadline for one Redis counter call. Below ioredis' 500 ms command timeout, so that a
 * frozen Redis (connected, not answering) costs a request at most this, and only until the breaker
 * below opens. Redis answers in well under a millisecond on a LAN.
 */
export const REDIS_DEADLINE_MS = 100;
/** After a failed Redis call, count in memory for this long before trying Redis again. */
export const REDIS_RETRY_MS = 1_000;

export interface ResilientStoreOptions {
  redis: Redis | undefined;
  prefix: string;
  log: FastifyBaseLogger;
}

/**
 * Counts in Redis when it is configured and answering (one budget shared by every instance),
 * otherwise in this process's memory. A Redis outage never fails or stalls a request: the counter
 * falls back to memory at once (disconnected) or after REDIS_DEADLINE_MS (frozen), and stays
 * there for REDIS_RETRY_MS before Redis is tried again. While degraded, each instance enforces
 * the full budget on its own, so N instances allow up to N times the limit: a weaker limit, but
 * never no limit and never a 5xx.
 */
export class ResilientStore {
  private readonly local = new LocalStore(false, false, LOCAL_KEYS);
  private readonly shared: CounterStore | undefined;
  private skipRedisUntil = 0;
  private degraded = false;

  constructor(private readonly options: ResilientStoreOptions) {
    this.shared =
      options.redis === undefined
        ? undefined
        : new RedisStore(false, false, options.redis, options.prefix);
  }

  incr(key: string, cb: Callback, timeWindow: number, max: number): void {
    const { redis } = this.options;
    const { shared } = this;
    if (shared === undefined || redis === undefined) {
      this.local.incr(key, cb, timeWindow, max);
      return;
    }
    // ioredis reports its connection state; asking a disconnected client only earns an error.
    if (redis.status !== 'ready' || Date.now() < this.skipRedisUntil) {
      this.markDegraded(`Redis is ${redis.status}`);
      this.local.incr(key, cb, timeWindow, max);
      return;
    }
    let settled = false;
    const fallBack = (reason: string) => {
      settled = true;
      this.skipRedisUntil = Date.now() + REDIS_RETRY_MS;
      this.markDegraded(reason);
      this.local.incr(key, cb, timeWindow, max);
    };
    const timer = setTimeout(() => {
      fallBack(`Redis did not answer within ${REDIS_DEADLINE_MS} ms`);
    }, REDIS_DEADLINE_MS);
    shared.incr(
      key,
      (error, result) => {
        if (settled) return;
        clearTimeout(timer);
        if (error !== null || result === undefined) {
          fallBack(error?.message ?? 'Redis returned no counter');
          return;
        }
        settled = true;
        this.markHealthy();
        cb(null, result);
      },
      timeWindow,
      max,
    );
  }

  /** Keys are namespaced by the key generators, so every limit can share one store. */
  child(): this {
    return this;
  }

  // One log line per transition, not one per request: an outage must not flood the logs.
  private markDegraded(reason: string): void {
    if (this.degraded) return;
    this.degraded = true;
    this.options.log.warn(
      { reason },
      'rate limits fall back to per-instance memory while Redis is unreachable',
    );
  }

  private markHealthy(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.options.log.info('rate limits are shared through Redis again');
  }
}
