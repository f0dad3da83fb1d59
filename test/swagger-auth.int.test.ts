import { describe, expect, it } from 'vitest';
import { createUser, useTestApp, type TestApp } from './helpers.js';

/**
 * "Authorize" on the docs page: Swagger UI posts the OAuth2 password form to the scheme's
 * tokenUrl exactly as below (form body, `scope=` empty, an `Authorization: Basic` header for an
 * empty client id and secret), then sends the access token it gets as a bearer token.
 */
let t: TestApp;
useTestApp(async (app) => {
  t = app;
});

interface Doc {
  paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
  components: { securitySchemes: Record<string, { flows?: { password?: { tokenUrl: string } } }> };
}

describe('Swagger UI authorization', () => {
  it('lists the OAuth2 password flow on secured operations and its token works as a bearer', async () => {
    const doc = (await t.app.inject('/openapi.json')).json<Doc>();
    const me = doc.paths['/api/v1/users/me']?.get;
    expect(me?.security).toContainEqual({ oauth2Password: [] });
    const tokenUrl = doc.components.securitySchemes.oauth2Password?.flows?.password?.tokenUrl;
    expect(tokenUrl).toBe('/api/v1/auth/login');

    const user = await createUser(t.app, 'doctor');
    const form = new URLSearchParams({
      grant_type: 'password',
      username: user.email,
      password: user.password,
      scope: '',
    });
    const token = await t.app.inject({
      method: 'POST',
      url: tokenUrl ?? '',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(':').toString('base64')}`,
        'x-requested-with': 'XMLHttpRequest',
      },
      payload: form.toString(),
    });
    expect(token.statusCode, token.body).toBe(200);
    const body = token.json<{ access_token: string; token_type: string }>();
    expect(body.token_type).toBe('bearer');
    const res = await t.app.inject({
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: user.id });
  });

  it('keeps the authorization across a reload (persistAuthorization)', async () => {
    const res = await t.app.inject('/docs/static/swagger-initializer.js');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/persistAuthorization["']?\s*:\s*true/);
  });
});

describe('GET /', () => {
  // The staff console's page when a console is built (dist/console, src/plugins/console.ts),
  // else the small home page: either links the docs and the health check.
  it('is an HTML page linking the docs and the health check', async () => {
    const res = await t.app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(res.body).toContain('href="/docs"');
    expect(res.body).toContain('href="/health"');
    // No external resource, and no inline script: only same-origin script files.
    expect(res.body).not.toMatch(/https?:\/\//);
    const scripts = [...res.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    for (const [, attributes = '', content = ''] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/[^/]/);
      expect(content.trim()).toBe('');
    }
  });
});
