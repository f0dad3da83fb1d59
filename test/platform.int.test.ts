import { describe, expect, it } from 'vitest';
import { bearer, buildTestApp, problemOf } from './helpers.js';
import { t, admin, usePlatformApp, uuidV7, register } from './platform-support.js';

/**
 * Platform behaviour shared by every route (ARCHITECTURE.md section 3, SECURITY.md "Input and
 * limits"): request ids, security headers, problem+json for every failure, CORS. Request bodies
 * are in platform-bodies.int.test.ts.
 */
usePlatformApp();

describe('X-Request-Id', () => {
  it('is minted (a UUIDv7) when the caller sends none, and matches the problem request_id', async () => {
    const ok = await t.app.inject('/health');
    expect(ok.headers['x-request-id']).toMatch(uuidV7);
    const missing = await t.app.inject('/no/such/route');
    const id = missing.headers['x-request-id'];
    expect(id).toMatch(uuidV7);
    expect(problemOf(missing).request_id).toBe(id);
  });

  it('echoes a well-formed incoming id', async () => {
    for (const incoming of ['trace-abc-12345678', 'req.2026:11:23_ok-ABC', 'a'.repeat(128)]) {
      const res = await t.app.inject({ url: '/health', headers: { 'x-request-id': incoming } });
      expect(res.headers['x-request-id'], incoming).toBe(incoming);
    }
    const failing = await t.app.inject({
      url: '/api/v1/users/me',
      headers: { 'x-request-id': 'trace-from-proxy-0001' },
    });
    expect(failing.statusCode).toBe(401);
    expect(failing.headers['x-request-id']).toBe('trace-from-proxy-0001');
    expect(problemOf(failing).request_id).toBe('trace-from-proxy-0001');
  });

  it('replaces a malformed incoming id (too short, spaces, too long, odd characters)', async () => {
    for (const incoming of [
      'x',
      'has some spaces in it',
      'a'.repeat(129),
      '<script>alert(1)</script>',
      'abc/def/ghi/jkl',
      'quote"injection"here',
    ]) {
      const res = await t.app.inject({ url: '/health', headers: { 'x-request-id': incoming } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-request-id'], incoming).not.toBe(incoming);
      expect(res.headers['x-request-id'], incoming).toMatch(uuidV7);
    }
  });

  it('is unique per request', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      ids.add(String((await t.app.inject('/health')).headers['x-request-id']));
    }
    expect(ids.size).toBe(20);
  });
});

describe('security headers', () => {
  const expectedHeaders: Record<string, string | RegExp> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'strict-transport-security': /max-age=\d+/,
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'x-dns-prefetch-control': 'off',
    'x-permitted-cross-domain-policies': 'none',
    'x-download-options': 'noopen',
    'x-xss-protection': '0',
    'content-security-policy': /default-src 'self'.*frame-ancestors 'none'/,
  };

  it('are on success, problem, 404, 413, 415 and docs responses alike', async () => {
    const responses = {
      health: await t.app.inject('/health'),
      me: await t.app.inject({ url: '/api/v1/users/me', headers: bearer(admin.accessToken) }),
      unauthorized: await t.app.inject('/api/v1/users/me'),
      notFound: await t.app.inject('/definitely/not/here'),
      validation: await register({}),
      malformed: await register('{"email":'),
      tooLarge: await register(JSON.stringify({ x: 'a'.repeat(1_100_000) })),
      mediaType: await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      }),
      openapi: await t.app.inject('/openapi.json'),
    };
    for (const [name, res] of Object.entries(responses)) {
      for (const [header, expected] of Object.entries(expectedHeaders)) {
        const value = res.headers[header];
        if (typeof expected === 'string') expect(value, `${name}: ${header}`).toBe(expected);
        else expect(String(value), `${name}: ${header}`).toMatch(expected);
      }
      expect(res.headers['x-request-id'], `${name}: x-request-id`).toBeTruthy();
      expect(res.headers['x-powered-by'], `${name}: x-powered-by`).toBeUndefined();
    }
  });
});

describe('unknown routes and trailing slashes', () => {
  it('answers an unknown route with a 404 problem', async () => {
    for (const [method, url] of [
      ['GET', '/nope'],
      ['GET', '/api/v1/nope'],
      ['POST', '/api/v1/users/me/extra'],
      ['DELETE', '/health'],
      ['GET', '/api/v2/users'],
    ] as const) {
      const res = await t.app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      const problem = problemOf(res);
      expect(problem).toMatchObject({
        status: 404,
        code: 'not_found',
        type: 'urn:medcore:problem:not_found',
      });
      expect(problem.request_id).toBe(res.headers['x-request-id']);
    }
  });

  it('does not reflect the query string of an unknown route in the problem', async () => {
    const res = await t.app.inject('/nope?token=secret-value-123');
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('secret-value-123');
  });

  it('serves routes with a trailing slash the same as without', async () => {
    const me = await t.app.inject({ url: '/api/v1/users/me/', headers: bearer(admin.accessToken) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: admin.id });
    const health = await t.app.inject('/health/');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok' });
    const ready = await t.app.inject('/health/ready/');
    expect(ready.statusCode).toBe(200);
    const unauthenticated = await t.app.inject('/api/v1/users/me/');
    expect(unauthenticated.statusCode).toBe(401);
  });
});

describe('errors raised by the router itself', () => {
  // Over-long path parameters and broken percent-escapes are refused by Fastify before any hook
  // runs; they must still leave as problem+json with the request id and security headers.
  for (const [name, url] of [
    ['an over-long path parameter', `/api/v1/users/${'a'.repeat(300)}`],
    ['a broken percent-escape', '/api/v1/users/%'],
    ['an invalid percent-escape', '/api/v1/users/%ZZ'],
  ] as const) {
    it(`answers ${name} with a 4xx problem carrying X-Request-Id and nosniff`, async () => {
      const res = await t.app.inject({ url, headers: bearer(admin.accessToken) });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      const problem = problemOf(res);
      expect(problem.status).toBe(res.statusCode);
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(problem.request_id).toBe(res.headers['x-request-id']);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });
  }
});

describe('CORS', () => {
  it('allows only the configured origins', async () => {
    const cors = await buildTestApp({ CORS_ORIGINS: 'https://app.clinic.test' });
    try {
      const preflight = await cors.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/users/me',
        headers: {
          origin: 'https://app.clinic.test',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(preflight.statusCode).toBeLessThan(300);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.clinic.test');
      expect(String(preflight.headers['access-control-allow-methods'])).toContain('PATCH');
      expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain(
        'authorization',
      );

      const get = await cors.app.inject({
        url: '/health',
        headers: { origin: 'https://app.clinic.test' },
      });
      expect(get.headers['access-control-allow-origin']).toBe('https://app.clinic.test');
      expect(String(get.headers['access-control-expose-headers']).toLowerCase()).toContain(
        'x-request-id',
      );
      expect(String(get.headers.vary).toLowerCase()).toContain('origin');

      for (const origin of [
        'https://evil.test',
        'https://app.clinic.test.evil.test',
        'http://app.clinic.test',
        'null',
      ]) {
        const other = await cors.app.inject({ url: '/health', headers: { origin } });
        expect(other.headers['access-control-allow-origin'], origin).toBeUndefined();
        const otherPreflight = await cors.app.inject({
          method: 'OPTIONS',
          url: '/api/v1/users/me',
          headers: { origin, 'access-control-request-method': 'GET' },
        });
        expect(otherPreflight.headers['access-control-allow-origin'], origin).toBeUndefined();
      }
    } finally {
      await cors.close();
    }
  });

  it('sends no Access-Control-Allow-Origin by default', async () => {
    const get = await t.app.inject({
      url: '/health',
      headers: { origin: 'https://app.clinic.test' },
    });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/users/me',
      headers: { origin: 'https://app.clinic.test', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});
