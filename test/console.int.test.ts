import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsHtml } from '../src/plugins/console.js';
import { securityHeaders } from '../src/plugins/security.js';
import { buildTestApp, createUser, problemOf, type TestApp } from './helpers.js';

/**
 * The built staff console served at `/` (src/plugins/console.ts), on a tiny fixture build shaped
 * like Vite's: index.html, hashed files under assets/, a favicon beside them.
 */
const html = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const indexHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MedCore console</title>
<script type="module" crossorigin src="/assets/index-Bq7x1c9A.js"></script>
<link rel="stylesheet" crossorigin href="/assets/index-D4kf82Lm.css">
</head><body><div id="root"></div>
<noscript><a href="/docs">API documentation</a> · <a href="/health">Health check</a></noscript>
</body></html>
`;

let dir: string;
let t: TestApp;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'medcore-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), indexHtml);
  writeFileSync(join(dir, 'assets', 'index-Bq7x1c9A.js'), 'console.log("console");\n');
  writeFileSync(join(dir, 'assets', 'index-D4kf82Lm.css'), 'body { margin: 0; }\n');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  writeFileSync(join(dir, '.env'), 'SECRET=1\n');
  t = await buildTestApp({ CONSOLE_DIR: dir });
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(url: string, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'GET', url, headers });
}

function expectPage(res: Awaited<ReturnType<typeof get>>) {
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expect(res.headers['cache-control']).toBe('no-cache');
  expect(res.body).toBe(indexHtml);
}

describe('the console page', () => {
  it('is index.html at /, revalidated on every load, with the console CSP', async () => {
    const res = await get('/', { accept: html });
    expectPage(res);
    const csp = String(res.headers['content-security-policy']);
    const directives = new Map(
      csp.split(';').map((d) => [d.split(' ')[0] ?? '', d.split(' ').slice(1).join(' ')]),
    );
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('script-src-attr')).toBe("'none'");
    expect(directives.get('connect-src')).toBe("'self'");
    expect(directives.get('img-src')).toBe("'self' data: blob:");
    expect(directives.get('frame-src')).toBe("'self' blob:");
    expect(directives.get('object-src')).toBe("'self' blob:");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    // No other host anywhere in the policy.
    expect(csp).not.toMatch(/https?:|\*/);
    // The other security headers stay.
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('answers / without an Accept header too (curl, the issue-14 check)', async () => {
    expectPage(await get('/'));
  });

  it('is revalidated with its ETag', async () => {
    const first = await get('/');
    const etag = String(first.headers.etag);
    expect(etag).not.toBe('undefined');
    const again = await get('/', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
  });

  it('answers client-side routes a browser navigates to, and nothing else', async () => {
    for (const url of [
      '/patients',
      '/patients/0193a0b2-0000-7000-8000-000000000001',
      '/today?d=1',
    ]) {
      expectPage(await get(url, { accept: html }));
    }
    // Not a browser navigation: the usual 404 problem.
    for (const accept of [undefined, 'application/json', '*/*', 'text/html;q=0']) {
      const res = await get('/patients', accept === undefined ? {} : { accept });
      expect(res.statusCode, String(accept)).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
    }
    // Not a GET.
    const post = await t.app.inject({
      method: 'POST',
      url: '/patients',
      headers: { accept: html },
    });
    expect(post.statusCode).toBe(404);
  });

  it('never answers the page for the paths of the service', async () => {
    for (const url of [
      '/api',
      '/api/v1/no-such-route',
      '/api/v1/auth/login',
      '/docs/no-such-file',
      '/metrics/x',
      '/health/nope',
      '/healthz',
      '/assets',
    ]) {
      const res = await get(url, { accept: html });
      expect(res.statusCode, url).toBe(404);
      expect(problemOf(res).code, url).toBe('not_found');
    }
    const health = await get('/health', { accept: html });
    expect(health.statusCode).toBe(200);
    expect(health.headers['content-type']).toMatch(/^application\/json/);
    const spec = await get('/openapi.json', { accept: html });
    expect(spec.headers['content-type']).toMatch(/^application\/json/);
  });
});

describe('the console files', () => {
  it('serves hashed assets with a year of immutable cache', async () => {
    const js = await get('/assets/index-Bq7x1c9A.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body).toContain('console.log');
    const css = await get('/assets/index-D4kf82Lm.css');
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers a missing asset with the 404 problem, never with the page', async () => {
    for (const accept of [html, '*/*']) {
      const res = await get('/assets/index-gone.js', { accept });
      expect(res.statusCode).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
    }
  });

  it('serves the unhashed files beside index.html, revalidated, and no dotfile or file outside', async () => {
    const icon = await get('/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(icon.headers['cache-control']).toBe('no-cache');
    for (const url of [
      '/.env',
      '/assets/../.env',
      '/assets/..%2f.env',
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e/.env',
      '/assets/%2e%2e/%2e%2e/package.json',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, url).toBeLessThan(500);
      expect(res.body, url).not.toContain('SECRET');
      expect(res.body, url).not.toContain('"name": "medcore"');
    }
  });
});

describe('the API beside the console', () => {
  it('keeps the strict CSP on its answers', async () => {
    const user = await createUser(t.app, 'doctor');
    const me = await t.app.inject({
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${user.accessToken}`, accept: html },
    });
    expect(me.statusCode).toBe(200);
    expect(me.headers['content-security-policy']).toBe(securityHeaders['content-security-policy']);
    const docs = await get('/docs', { accept: html });
    expect(docs.headers['content-security-policy']).toBe(
      securityHeaders['content-security-policy'],
    );
  });
});

describe('without a built console', () => {
  it('keeps the home page at / and the 404 problem elsewhere', async () => {
    const bare = await buildTestApp({ CONSOLE_DIR: join(dir, 'not-built') });
    try {
      const home = await bare.app.inject({ url: '/', headers: { accept: html } });
      expect(home.statusCode).toBe(200);
      expect(home.body).toContain('href="/docs"');
      expect(home.body).not.toContain('<script');
      const route = await bare.app.inject({ url: '/patients', headers: { accept: html } });
      expect(route.statusCode).toBe(404);
      expect(problemOf(route).code).toBe('not_found');
    } finally {
      await bare.close();
    }
  });
});

describe('acceptsHtml', () => {
  it('reads the media ranges of an Accept header', () => {
    expect(acceptsHtml(html)).toBe(true);
    expect(acceptsHtml('TEXT/HTML')).toBe(true);
    expect(acceptsHtml('application/json, text/html;q=0.5')).toBe(true);
    expect(acceptsHtml(undefined)).toBe(false);
    expect(acceptsHtml('*/*')).toBe(false);
    expect(acceptsHtml('text/html;q=0')).toBe(false);
    expect(acceptsHtml('text/htmlx')).toBe(false);
  });
});
