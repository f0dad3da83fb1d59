import { describe, expect, it } from 'vitest';
import { bearer, problemOf, strongPassword, unique } from './helpers.js';
import {
  t,
  admin,
  usePlatformApp,
  register,
  validRegistration,
  victim,
} from './platform-support.js';

/**
 * Platform behaviour shared by every route (SECURITY.md "Input and limits"): strict request
 * bodies, each failure a problem+json.
 */
usePlatformApp();

describe('request bodies', () => {
  it('refuses a JSON body over 1 MB with a 413 problem', async () => {
    const res = await register({ ...validRegistration(), full_name: 'a'.repeat(1_048_577) });
    expect(res.statusCode).toBe(413);
    expect(problemOf(res)).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('refuses a declared Content-Length over 1 MB even before reading it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'content-type': 'application/json', 'content-length': '5000000' },
      payload: '{}',
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    problemOf(res);
  });

  it('accepts a body just under the limit up to validation (400, not 413)', async () => {
    const res = await register({ ...validRegistration(), full_name: 'a'.repeat(1_000_000) });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.field).toBe('body.full_name');
  });

  it('answers malformed JSON with a 400 problem, never a 500', async () => {
    for (const payload of [
      '{"email":',
      '{email: "a@b.co"}',
      "{'a': 1}",
      '{"a": 1,}',
      '[1, 2',
      'nul',
      '{"a": NaN}',
      '\u0000',
      '{"a": "\\x00"}',
      '{"a": 1} trailing',
    ]) {
      const res = await register(payload);
      expect(res.statusCode, payload).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
  });

  it('refuses a __proto__ key in the JSON body without polluting prototypes', async () => {
    const res = await register(
      `{"email":"${unique()}@example.test","username":"${unique()}","password":"${strongPassword}","__proto__":{"is_admin":true}}`,
    );
    expect(res.statusCode).toBe(400);
    problemOf(res);
    expect(({} as Record<string, unknown>).is_admin).toBeUndefined();
  });

  it('answers an empty body with content-type json with 400', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).status).toBe(400);
  });

  it('answers a JSON route without any body with a 400 problem', async () => {
    for (const url of ['/api/v1/auth/register', '/api/v1/auth/refresh', '/api/v1/auth/login']) {
      const res = await t.app.inject({ method: 'POST', url });
      expect(res.statusCode, url).toBe(400);
      expect(problemOf(res).status, url).toBe(400);
    }
  });

  it('answers other media types on a JSON route with 415', async () => {
    for (const type of ['application/xml', 'multipart/form-data; boundary=x', 'image/png']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: { 'content-type': type },
        payload: JSON.stringify(validRegistration()),
      });
      expect(res.statusCode, type).toBe(415);
      expect(problemOf(res)).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    }
  });

  // Fastify ships a text/plain parser by default; the app must not accept it on JSON routes.
  it('answers text/plain on a JSON route with 415', async () => {
    for (const url of ['/api/v1/auth/register', '/api/v1/auth/refresh', '/api/v1/auth/login']) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      });
      expect(res.statusCode, url).toBe(415);
      expect(problemOf(res)).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    }
  });

  it('refuses an unknown body property, naming it', async () => {
    const res = await register(validRegistration({ extra: 'x' }));
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors).toContainEqual({ field: 'body.extra', message: 'unknown property' });
  });

  it('refuses unknown properties on admin routes too (no silent dropping)', async () => {
    const target = await victim();
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${target.id}`,
      headers: bearer(admin.accessToken),
      payload: { full_name: 'New Name', hashed_password: 'x' },
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toContainEqual({
      field: 'body.hashed_password',
      message: 'unknown property',
    });
  });

  it('does not coerce types in bodies ("true" is not true, "123" is not a string-typed 123)', async () => {
    const target = await victim();
    for (const body of [
      { is_active: 'true' },
      { is_active: 'false' },
      { is_active: 1 },
      { is_superuser: 'true' },
      { is_active: 0 },
      { full_name: 123 },
      { role: ['admin'] },
    ]) {
      const res = await t.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${target.id}`,
        headers: bearer(admin.accessToken),
        payload: body,
      });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      const field = `body.${Object.keys(body)[0] ?? ''}`;
      expect(problemOf(res).errors?.[0]?.field, JSON.stringify(body)).toBe(field);
    }
    const after = await t.app.inject({
      url: `/api/v1/users/${target.id}`,
      headers: bearer(admin.accessToken),
    });
    expect(after.json()).toMatchObject({ is_active: true, is_superuser: false, version: 1 });
    // The real boolean is accepted: the refusals above were about the type alone.
    const ok = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${target.id}`,
      headers: bearer(admin.accessToken),
      payload: { is_active: false },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ is_active: false });
  });

  it('refuses a number sent as a JSON string to login and register', async () => {
    const res = await register({ ...validRegistration(), username: 12345 });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.field).toBe('body.username');
  });

  it('refuses NUL and other control characters in strings', async () => {
    for (const bad of [
      'a\u0000b',
      '\u0000',
      'x\u0001',
      'esc\u001b[31m',
      'del\u007f',
      'a\nb',
      'a\tb',
    ]) {
      const res = await register({ ...validRegistration(), full_name: bad });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(problemOf(res).errors, JSON.stringify(bad)).toContainEqual({
        field: 'body.full_name',
        message: 'must not contain control characters',
      });
    }
    const password = await register({ ...validRegistration(), password: 'long enough\u0000pass' });
    expect(password.statusCode).toBe(400);
    expect(problemOf(password).errors).toContainEqual({
      field: 'body.password',
      message: 'must not contain control characters',
    });
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: `${admin.email}\u0000`, password: strongPassword },
    });
    expect(login.statusCode).toBe(400);
    expect(problemOf(login).errors?.[0]?.message).toBe('must not contain control characters');
  });

  it('refuses control characters in query strings too', async () => {
    const res = await t.app.inject({
      url: '/api/v1/users?q=a%00b',
      headers: bearer(admin.accessToken),
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toContainEqual({
      field: 'query.q',
      message: 'must not contain control characters',
    });
  });

  it('accepts non-ASCII text that is not a control character', async () => {
    const res = await register({ ...validRegistration(), full_name: 'Zoë Ñúñez 山田 🩺' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ full_name: 'Zoë Ñúñez 山田 🩺' });
  });

  it('refuses over-long strings in every body and the query', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        '/api/v1/auth/register',
        { ...validRegistration(), full_name: 'a'.repeat(201) },
        'body.full_name',
      ],
      [
        '/api/v1/auth/register',
        { ...validRegistration(), username: 'a'.repeat(51) },
        'body.username',
      ],
      [
        '/api/v1/auth/register',
        { ...validRegistration(), email: `${'a'.repeat(250)}@example.test` },
        'body.email',
      ],
      [
        '/api/v1/auth/register',
        { ...validRegistration(), password: 'a'.repeat(129) },
        'body.password',
      ],
      ['/api/v1/auth/refresh', { refresh_token: 'a'.repeat(201) }, 'body.refresh_token'],
      ['/api/v1/auth/login', { email: admin.email, password: 'a'.repeat(129) }, 'body.password'],
      ['/api/v1/auth/login', { email: 'a'.repeat(255), password: 'x' }, 'body.email'],
    ];
    for (const [url, payload, field] of cases) {
      const res = await t.app.inject({ method: 'POST', url, payload });
      expect(res.statusCode, `${url} ${field}`).toBe(400);
      expect(problemOf(res).errors?.[0]?.field, `${url} ${field}`).toBe(field);
    }
    const query = await t.app.inject({
      url: `/api/v1/users?q=${'a'.repeat(101)}`,
      headers: bearer(admin.accessToken),
    });
    expect(query.statusCode).toBe(400);
    expect(problemOf(query).errors?.[0]?.field).toBe('query.q');
    // The boundary itself is accepted.
    const atLimit = await register({ ...validRegistration(), full_name: 'a'.repeat(200) });
    expect(atLimit.statusCode).toBe(201);
  });

  it('bounds integers in the query (limit 1..100, no floats)', async () => {
    for (const limit of ['0', '-1', '101', '1.5', '1e3', 'abc', '99999999999999999999']) {
      const res = await t.app.inject({
        url: `/api/v1/users?limit=${limit}`,
        headers: bearer(admin.accessToken),
      });
      expect(res.statusCode, limit).toBe(400);
      expect(problemOf(res).errors?.[0]?.field, limit).toBe('query.limit');
    }
    const ok = await t.app.inject({
      url: '/api/v1/users?limit=100',
      headers: bearer(admin.accessToken),
    });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses an invalid UUID in the path with 400, not 500', async () => {
    for (const id of [
      'x',
      '123',
      'not-a-uuid',
      "'%20OR%201=1--",
      '00000000-0000-0000-0000-00000000000g',
    ]) {
      const res = await t.app.inject({
        url: `/api/v1/users/${id}`,
        headers: bearer(admin.accessToken),
      });
      expect(res.statusCode, id).toBe(400);
      expect(problemOf(res).errors?.[0]?.field, id).toBe('path.id');
    }
  });
});
