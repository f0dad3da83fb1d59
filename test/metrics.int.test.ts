import { describe, expect, it } from 'vitest';
import {
  api,
  bearer,
  buildTestApp,
  createUsers,
  problemOf,
  unique,
  useTestApp,
  type TestApp,
  type TestUser,
} from './helpers.js';

/** GET /metrics (issue 13, item 5): Prometheus text, route templates, token, default metrics. */

let t: TestApp;
let doctor: TestUser;
useTestApp(async (app) => {
  t = app;
  [doctor] = await createUsers(app.app, 'doctor');
});

async function scrape(app = t.app, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.body;
}

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = (match[2] ?? '').split(',');
    if (wanted.every((pair) => have.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('serves the Prometheus text format with the default process metrics', async () => {
    const res = await t.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
      'medcore_db_pool_waiting',
      'medcore_audit_unsealed_rows',
      'medcore_audit_oldest_unsealed_age_seconds',
      'medcore_outbox_backlog',
      'medcore_outbox_oldest_age_seconds',
    ]) {
      expect(res.body, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(
      sample(res.body, 'medcore_db_pool_connections', { state: 'idle' }),
    ).toBeGreaterThanOrEqual(0);
  });

  it('reports reminder jobs and the due backlog when reminders are on', async () => {
    const own = await buildTestApp({ REMINDER_LEAD_MINUTES: '60' });
    try {
      const body = await scrape(own.app);
      expect(sample(body, 'medcore_jobs_total', { job: 'reminder', outcome: 'sent' })).toBe(0);
      expect(sample(body, 'medcore_jobs_total', { job: 'reminder', outcome: 'failed' })).toBe(0);
      expect(sample(body, 'medcore_reminders_due', {})).toBe(0);
      expect(sample(body, 'medcore_outbox_backlog', {})).toBeGreaterThanOrEqual(0);
    } finally {
      await own.close();
    }
  });

  it('labels requests with the route template, never the raw URL, and counts status codes', async () => {
    const id = '01900000-0000-7000-8000-00000000abcd';
    const before = await scrape();
    const labels = { method: 'GET', route: '/api/v1/patients/:id', status_code: '404' };
    const countBefore = sample(before, 'http_request_duration_seconds_count', labels) ?? 0;
    for (let i = 0; i < 3; i++) {
      expect((await api(t.app).as(doctor).get(`/patients/${id}`)).statusCode).toBe(404);
    }
    expect((await api(t.app).get(`/patients/${id}`)).statusCode).toBe(401);
    const raw = `/nowhere-${unique('x')}`;
    expect((await t.app.inject(raw)).statusCode).toBe(404);

    const after = await scrape();
    expect(sample(after, 'http_request_duration_seconds_count', labels)).toBe(countBefore + 3);
    expect(sample(after, 'http_requests_total', labels)).toBe(countBefore + 3);
    expect(
      sample(after, 'http_request_duration_seconds_count', { ...labels, status_code: '401' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(
      countBefore + 3,
    );
    expect(
      sample(after, 'http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status_code: '404',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain(id);
    expect(after).not.toContain(raw);
  });

  it('counts session cache hits and misses', async () => {
    const before = await scrape();
    const hits = sample(before, 'medcore_session_cache_lookups_total', { result: 'hit' }) ?? 0;
    const misses = sample(before, 'medcore_session_cache_lookups_total', { result: 'miss' }) ?? 0;
    // A fresh login: the first lookup misses, the ones right after (within AUTH_CACHE_MS) hit.
    const [user] = await createUsers(t.app, 'nurse');
    await Promise.all([1, 2].map(() => api(t.app).as(user).get('/users/me')));
    await api(t.app).as(user).get('/users/me');
    const after = await scrape();
    expect(
      sample(after, 'medcore_session_cache_lookups_total', { result: 'miss' }),
    ).toBeGreaterThan(misses);
    expect(sample(after, 'medcore_session_cache_lookups_total', { result: 'hit' })).toBeGreaterThan(
      hits,
    );
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  it('requires the bearer token and is never rate limited', async () => {
    const token = 'scrape-token-0123456789abcdef';
    const secured = await buildTestApp({
      METRICS_TOKEN: token,
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_PER_MIN: '2',
      RATE_LIMIT_KEY_PREFIX: `${unique('rl')}:`,
    });
    try {
      const none = await secured.app.inject('/metrics');
      expect(none.statusCode).toBe(401);
      expect(problemOf(none).code).toBe('unauthorized');
      const wrong = await secured.app.inject({
        url: '/metrics',
        headers: bearer('scrape-token-0123456789abcdeX'),
      });
      expect(wrong.statusCode).toBe(401);
      const prefix = await secured.app.inject({
        url: '/metrics',
        headers: bearer(token.slice(0, -1)),
      });
      expect(prefix.statusCode).toBe(401);
      for (let i = 0; i < 5; i++) {
        const res = await secured.app.inject({ url: '/metrics', headers: bearer(token) });
        expect(res.statusCode, `scrape ${i}`).toBe(200);
        expect(res.body).toContain('http_request_duration_seconds');
      }
    } finally {
      await secured.close();
    }
  });
});
