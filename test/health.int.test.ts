import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers.js';

/** Liveness says the process runs; readiness names each failing dependency with a 503. */
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const packageVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

interface Ready {
  status: string;
  failing: string[];
  checks: Record<string, { status: string; error?: string }>;
}

describe('GET /health', () => {
  it('reports ok, the package version and a whole-second uptime', async () => {
    const res = await t.app.inject('/health');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<{ status: string; version: string; uptime_s: number }>();
    expect(Object.keys(body).sort()).toEqual(['status', 'uptime_s', 'version']);
    expect(body.status).toBe('ok');
    expect(body.version).toBe(packageVersion);
    expect(Number.isInteger(body.uptime_s)).toBe(true);
    expect(body.uptime_s).toBeGreaterThanOrEqual(0);
  });

  it('needs no token and answers HEAD', async () => {
    const head = await t.app.inject({ method: 'HEAD', url: '/health' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });
});

describe('GET /health/ready', () => {
  it('is 200 with every configured check ok', async () => {
    // Redis connects in the background; give it the 2 s a readiness probe would allow.
    let res = await t.app.inject('/health/ready');
    for (const deadline = Date.now() + 2_000; res.statusCode !== 200 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      res = await t.app.inject('/health/ready');
    }
    expect(res.statusCode).toBe(200);
    const body = res.json<Ready>();
    expect(body.status).toBe('ready');
    expect(body.failing).toEqual([]);
    expect(body.checks.database).toEqual({ status: 'ok' });
    if (process.env.TEST_REDIS_URL) {
      expect(body.checks.redis).toEqual({ status: 'ok' });
    } else {
      expect(body.checks.redis).toBeUndefined();
    }
    expect(body.checks.lifecycle).toBeUndefined();
  });

  it('is 503 naming redis, within 2 s, when Redis cannot be reached', async () => {
    const broken = await buildTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const started = Date.now();
      const res = await broken.app.inject('/health/ready');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(res.statusCode).toBe(503);
      const body = res.json<Ready>();
      expect(body.status).toBe('unavailable');
      expect(body.failing).toEqual(['redis']);
      expect(body.checks.redis?.status).toBe('failing');
      expect(typeof body.checks.redis?.error).toBe('string');
      expect(body.checks.database).toEqual({ status: 'ok' });
      // Liveness is unaffected: a Redis outage must not get the process restarted.
      expect((await broken.app.inject('/health')).statusCode).toBe(200);
    } finally {
      await broken.close();
    }
  });

  it('is 503 naming database after the database is closed', async () => {
    const own = await buildTestApp();
    try {
      expect((await own.app.inject('/health/ready')).statusCode).toBe(200);
      const { database } = own.app;
      await database.close();
      // onClose closes it again, which pg refuses; make that a no-op so the clean-up still runs.
      database.close = () => Promise.resolve();
      const started = Date.now();
      const res = await own.app.inject('/health/ready');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(res.statusCode).toBe(503);
      const body = res.json<Ready>();
      expect(body.status).toBe('unavailable');
      expect(body.failing).toContain('database');
      expect(body.checks.database?.status).toBe('failing');
      expect(body.failing).not.toContain('redis');
    } finally {
      await own.close();
    }
  });

  it('is 503 naming lifecycle while shutting down, and 200 again once cleared', async () => {
    t.app.lifecycle.shuttingDown = true;
    try {
      const res = await t.app.inject('/health/ready');
      expect(res.statusCode).toBe(503);
      const body = res.json<Ready>();
      expect(body.status).toBe('unavailable');
      expect(body.failing).toEqual(['lifecycle']);
      expect(body.checks.lifecycle?.status).toBe('failing');
      expect(body.checks.database).toEqual({ status: 'ok' });
    } finally {
      t.app.lifecycle.shuttingDown = false;
    }
    expect((await t.app.inject('/health/ready')).statusCode).toBe(200);
  });
});
