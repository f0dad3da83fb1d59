import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, createUser, type TestApp, type TestUser } from './helpers.js';

/**
 * The exact security headers, names and values, on every kind of response. This is the set
 * @fastify/helmet produced with MedCore's options; the plugin now sets the same constant set
 * itself, so any drift (a header lost, a value changed, one added) fails here.
 */
const expected: Record<string, string> = {
  'content-security-policy':
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'none';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' 'unsafe-inline'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/** Headers that belong to one response (body, caching, CORS, auth), not to the security set. */
const perResponse = new Set([
  'accept-ranges',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-allow-origin',
  'access-control-expose-headers',
  'access-control-max-age',
  'cache-control',
  'connection',
  'content-length',
  'content-type',
  'date',
  'etag',
  'last-modified',
  'location',
  'transfer-encoding',
  'vary',
  'www-authenticate',
  'x-request-id',
]);

let t: TestApp;
let user: TestUser;
const origin = 'https://app.example';

beforeAll(async () => {
  t = await buildTestApp({ CORS_ORIGINS: origin });
  user = await createUser(t.app, 'doctor');
});
afterAll(async () => {
  await t.close();
});

function securitySet(res: LightMyRequestResponse): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(res.headers).filter(([name]) => !perResponse.has(name.toLowerCase())),
  );
}

describe('security headers', () => {
  const requests: [string, InjectOptions | (() => InjectOptions)][] = [
    ['health', { url: '/health' }],
    [
      'an authenticated read',
      () => ({ url: '/api/v1/users/me', headers: bearer(user.accessToken) }),
    ],
    ['a 401 problem', { url: '/api/v1/users/me' }],
    ['a 404 problem', { url: '/definitely/not/here' }],
    ['a 405-style unknown method', { method: 'DELETE', url: '/health' }],
    ['a 400 validation problem', { method: 'POST', url: '/api/v1/auth/register', payload: {} }],
    [
      'a 415 problem',
      {
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      },
    ],
    ['the docs page', { url: '/docs' }],
    ['a docs asset', { url: '/docs/static/swagger-ui-bundle.js' }],
    ['a docs redirect', { url: '/docs/static/index.html' }],
    ['the OpenAPI document', { url: '/openapi.json' }],
    [
      'a CORS preflight',
      {
        method: 'OPTIONS',
        url: '/api/v1/users/me',
        headers: { origin, 'access-control-request-method': 'GET' },
      },
    ],
    ['a CORS request', { url: '/health', headers: { origin } }],
  ];

  it.each(requests)('are exactly the expected set on %s', async (name, request) => {
    const res = await t.app.inject(typeof request === 'function' ? request() : request);
    expect(res.statusCode, name).toBeLessThan(500);
    expect(securitySet(res)).toEqual(expected);
  });

  it('CORS still answers only for the configured origin', async () => {
    const allowed = await t.app.inject({ url: '/health', headers: { origin } });
    expect(allowed.headers['access-control-allow-origin']).toBe(origin);
    const other = await t.app.inject({ url: '/health', headers: { origin: 'https://evil.test' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
