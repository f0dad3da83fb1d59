import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  login,
  problemOf,
  unique,
  type TestApp,
} from './helpers.js';

/**
 * SECURITY.md rate limits through HTTP: per IP on /auth/*, per user elsewhere, probes exempt,
 * X-Forwarded-For trusted only by config, one budget across instances through Redis, and a Redis
 * outage that degrades to a per-instance limit instead of stalling or failing requests.
 */
const apps: TestApp[] = [];
// Every app gets its own Redis namespace, so parallel files and earlier tests never share counters.
const runPrefix = `test:rl:${unique()}:`;

async function limitedApp(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await buildTestApp({
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_KEY_PREFIX: `${runPrefix}${unique()}:`,
    ...env,
  });
  apps.push(t);
  return t;
}

// Low budgets for one shared app; each test below calls from its own client address.
const AUTH_LIMIT = 4;
const API_LIMIT = 3;
let shared: FastifyInstance;

beforeAll(async () => {
  shared = (
    await limitedApp({
      RATE_LIMIT_AUTH_PER_MIN: String(AUTH_LIMIT),
      RATE_LIMIT_PER_MIN: String(API_LIMIT),
    })
  ).app;
});
afterAll(async () => {
  await Promise.all(apps.map((t) => t.close()));
});

function attemptLogin(app: FastifyInstance, extra: Partial<InjectOptions> = {}) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: `${unique()}@example.test`, password: 'not the password 1' },
    ...extra,
  });
}

function header(res: LightMyRequestResponse, name: string): number {
  const value = res.headers[name];
  if (typeof value !== 'string' || !/^\d+$/.test(value)) {
    throw new Error(`header ${name} is ${String(value)}`);
  }
  return Number(value);
}

function expectRateLimited(res: LightMyRequestResponse, limit: number) {
  expect(res.statusCode).toBe(429);
  const problem = problemOf(res);
  expect(problem.code).toBe('rate_limited');
  expect(problem.status).toBe(429);
  expect(problem.type).toBe('urn:medcore:problem:rate_limited');
  expect(problem.request_id).toBe(res.headers['x-request-id']);
  expect(header(res, 'retry-after')).toBeGreaterThanOrEqual(1);
  expect(header(res, 'retry-after')).toBeLessThanOrEqual(60);
  expect(header(res, 'ratelimit-limit')).toBe(limit);
  expect(header(res, 'ratelimit-remaining')).toBe(0);
  expect(header(res, 'ratelimit-reset')).toBeGreaterThanOrEqual(1);
}

describe('auth routes: per client IP', () => {
  it('answers login with 429 problem+json after RATE_LIMIT_AUTH_PER_MIN attempts, with headers', async () => {
    const ip = { remoteAddress: '192.0.2.1' };
    for (let remaining = AUTH_LIMIT - 1; remaining >= 0; remaining--) {
      const res = await attemptLogin(shared, ip);
      expect(res.statusCode).toBe(401);
      expect(header(res, 'ratelimit-limit')).toBe(AUTH_LIMIT);
      expect(header(res, 'ratelimit-remaining')).toBe(remaining);
      expect(header(res, 'ratelimit-reset')).toBeGreaterThanOrEqual(1);
      expect(header(res, 'ratelimit-reset')).toBeLessThanOrEqual(60);
      expect(res.headers['retry-after']).toBeUndefined();
    }
    const limited = await attemptLogin(shared, ip);
    expectRateLimited(limited, AUTH_LIMIT);
    // Security headers still apply to the refusal.
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
  });

  it('shares one budget across every /auth/* route and leaves other IPs alone', async () => {
    const ip = { remoteAddress: '192.0.2.2' };
    const post = (url: string, payload: object) =>
      shared.inject({ method: 'POST', url, payload, ...ip });
    expect((await attemptLogin(shared, ip)).statusCode).toBe(401);
    expect((await post('/api/v1/auth/refresh', { refresh_token: 'x'.repeat(43) })).statusCode).toBe(
      401,
    );
    expect((await post('/api/v1/auth/register', {})).statusCode).toBe(400);
    expect((await post('/api/v1/auth/logout', {})).statusCode).toBe(401);
    for (const url of ['/api/v1/auth/register', '/api/v1/auth/refresh', '/api/v1/auth/login']) {
      expectRateLimited(await post(url, {}), AUTH_LIMIT);
    }
    expect((await attemptLogin(shared, { remoteAddress: '192.0.2.3' })).statusCode).toBe(401);
  });

  it('starts a fresh budget when the window has passed', async () => {
    const { app } = await limitedApp({
      RATE_LIMIT_AUTH_PER_MIN: '1',
      RATE_LIMIT_WINDOW_MS: '1000',
    });
    expect((await attemptLogin(app)).statusCode).toBe(401);
    const limited = await attemptLogin(app);
    expectRateLimited(limited, 1);
    expect(header(limited, 'retry-after')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await attemptLogin(app)).statusCode).toBe(401);
  });
});

describe('client IP and X-Forwarded-For', () => {
  it('ignores a spoofed X-Forwarded-For when TRUST_PROXY=false (the default)', async () => {
    const spoofed = (n: number) => ({
      remoteAddress: '192.0.2.4',
      headers: { 'x-forwarded-for': `198.51.100.${n}` },
    });
    for (let n = 1; n <= AUTH_LIMIT; n++) {
      expect((await attemptLogin(shared, spoofed(n))).statusCode).toBe(401);
    }
    expectRateLimited(await attemptLogin(shared, spoofed(99)), AUTH_LIMIT);
  });

  it('counts forwarded addresses separately when TRUST_PROXY=true', async () => {
    const { app } = await limitedApp({ RATE_LIMIT_AUTH_PER_MIN: '3', TRUST_PROXY: 'true' });
    // Both clients reach the app through the same proxy address.
    const via = (client: string) => ({
      remoteAddress: '10.0.0.2',
      headers: { 'x-forwarded-for': client },
    });
    for (let i = 0; i < 3; i++) {
      expect((await attemptLogin(app, via('198.51.100.1'))).statusCode).toBe(401);
      expect((await attemptLogin(app, via('198.51.100.2'))).statusCode).toBe(401);
    }
    expectRateLimited(await attemptLogin(app, via('198.51.100.1')), 3);
    expectRateLimited(await attemptLogin(app, via('198.51.100.2')), 3);
    expect((await attemptLogin(app, via('198.51.100.3'))).statusCode).toBe(401);
  });
});

describe('other routes: per user, per IP when anonymous', () => {
  it('counts each user separately and one user across tokens together', async () => {
    // createUser and login call /auth/login from the default address, 127.0.0.1: 3 of its 4.
    const alice = await createUser(shared, 'user');
    const bob = await createUser(shared, 'user');
    const me = (token: string) =>
      shared.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });
    for (let remaining = API_LIMIT - 1; remaining >= 0; remaining--) {
      const res = await me(alice.accessToken);
      expect(res.statusCode).toBe(200);
      expect(header(res, 'ratelimit-limit')).toBe(API_LIMIT);
      expect(header(res, 'ratelimit-remaining')).toBe(remaining);
    }
    expectRateLimited(await me(alice.accessToken), API_LIMIT);
    // Same client address, another user: a budget of its own.
    const forBob = await me(bob.accessToken);
    expect(forBob.statusCode).toBe(200);
    expect(header(forBob, 'ratelimit-remaining')).toBe(API_LIMIT - 1);
    // A second session of the same user does not get a second budget.
    const second = await login(shared, alice.email, alice.password);
    expectRateLimited(await me(second.access_token), API_LIMIT);
    // The auth routes keep their own per-IP budget (its last request here).
    const sessions = await shared.inject({
      method: 'GET',
      url: '/api/v1/auth/sessions',
      headers: bearer(alice.accessToken),
    });
    expect(sessions.statusCode).toBe(200);
  });

  it('limits anonymous callers, bad tokens and unknown /api paths per IP', async () => {
    const ip = { remoteAddress: '192.0.2.5' };
    const forged = bearer('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl');
    const get = (url: string, headers: Record<string, string> = {}) =>
      shared.inject({ url, headers, ...ip });
    expect((await get('/api/v1/users/me')).statusCode).toBe(401);
    expect((await get('/api/v1/users/me', forged)).statusCode).toBe(401);
    expect((await get('/api/v1/no-such-thing')).statusCode).toBe(404);
    expectRateLimited(await get('/api/v1/users/me', forged), API_LIMIT);
    expectRateLimited(await get('/api/v1/no-such-thing'), API_LIMIT);
    const elsewhere = await shared.inject({ url: '/api/v1/users/me', remoteAddress: '192.0.2.6' });
    expect(elsewhere.statusCode).toBe(401);
  });
});

describe('probes and docs', () => {
  it('are never limited and carry no RateLimit headers', async () => {
    const ip = { remoteAddress: '192.0.2.7' };
    // Exhaust both budgets of this client first.
    for (let i = 0; i < AUTH_LIMIT; i++) await attemptLogin(shared, ip);
    for (let i = 0; i < API_LIMIT; i++) await shared.inject({ url: '/api/v1/users/me', ...ip });
    expectRateLimited(await attemptLogin(shared, ip), AUTH_LIMIT);
    expectRateLimited(await shared.inject({ url: '/api/v1/users/me', ...ip }), API_LIMIT);
    for (let i = 0; i < 5; i++) {
      for (const url of ['/health', '/health/ready', '/openapi.json', '/docs', '/docs/json']) {
        const res = await shared.inject({ url, ...ip });
        expect(res.statusCode, url).not.toBe(429);
        expect(res.headers['ratelimit-limit'], url).toBeUndefined();
      }
      expect((await shared.inject({ method: 'HEAD', url: '/health', ...ip })).statusCode).toBe(200);
    }
  });
});

describe('Redis', () => {
  it.skipIf(!process.env.TEST_REDIS_URL)(
    'two instances share one budget (needs TEST_REDIS_URL)',
    async () => {
      const prefix = `${runPrefix}shared-${unique()}:`;
      const env = { RATE_LIMIT_AUTH_PER_MIN: '3', RATE_LIMIT_KEY_PREFIX: prefix };
      const first = await limitedApp(env);
      const second = await limitedApp(env);
      expect(first.config.redisUrl).toBeDefined();
      expect(header(await attemptLogin(first.app), 'ratelimit-remaining')).toBe(2);
      expect(header(await attemptLogin(second.app), 'ratelimit-remaining')).toBe(1);
      expect(header(await attemptLogin(first.app), 'ratelimit-remaining')).toBe(0);
      expectRateLimited(await attemptLogin(second.app), 3);
      expectRateLimited(await attemptLogin(first.app), 3);
    },
  );

  async function expectFastLimit(app: FastifyInstance) {
    const timings: number[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const res = await app.inject('/api/v1/users/me');
      timings.push(performance.now() - started);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) expectRateLimited(res, 3);
    }
    // Still limited (in memory), never a 5xx, and every answer well within 500 ms.
    expect(statuses).toEqual([401, 401, 401, 429]);
    for (const ms of timings) expect(ms).toBeLessThan(500);
    return timings;
  }

  it('down (connection refused): answers quickly with a per-instance limit', async () => {
    const { app } = await limitedApp({
      RATE_LIMIT_PER_MIN: '3',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    await expectFastLimit(app);
    expect((await app.inject('/health/ready')).statusCode).toBe(503);
  });

  it('frozen (accepts connections, never answers): answers within 500 ms', async () => {
    const frozen = await frozenRedis();
    try {
      const { app } = await limitedApp({ RATE_LIMIT_PER_MIN: '3', REDIS_URL: frozen.url });
      const timings = await expectFastLimit(app);
      // Only the first request waits for Redis; the breaker keeps the others in memory.
      for (const ms of timings.slice(1)) expect(ms).toBeLessThan(50);
    } finally {
      await frozen.close();
    }
  });
});

/**
 * A Redis impostor that completes ioredis' ready check (INFO) and then never answers again:
 * the shape of a Redis that is paused, swapping or behind a black-holed network path.
 */
async function frozenRedis(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      if (!/info/i.test(chunk.toString('latin1'))) return;
      const info = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';
      socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
