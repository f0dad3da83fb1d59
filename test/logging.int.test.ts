import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, unique, type TestApp, type TokenPairBody } from './helpers.js';

/**
 * SECURITY.md: logs never contain passwords or tokens. Canary values go through every auth
 * route with logging at trace level; then all output is searched for them.
 */
const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp(
    { LOG_LEVEL: 'trace' },
    { logger: undefined, logStream: { write: (line: string) => lines.push(line) } },
  );
});
afterAll(async () => {
  await t.close();
});

describe('logs', () => {
  it('never contain passwords or tokens, even at trace level', async () => {
    const password = `canary-password-${unique()}`;
    const newPassword = `canary-new-password-${unique()}`;
    const username = unique();
    const email = `${username}@example.test`;
    const canaries = [password, newPassword];
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email, username, password },
    });
    const pair = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password },
      })
    ).json<TokenPairBody>();
    canaries.push(pair.access_token, pair.refresh_token);
    const next = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: pair.refresh_token },
      })
    ).json<TokenPairBody>();
    canaries.push(next.access_token, next.refresh_token);
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/change',
      headers: bearer(next.access_token),
      payload: { current_password: password, new_password: newPassword },
    });
    // A failing request with a secret in the body and a bad token in the header.
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: newPassword, extra: password },
    });
    await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(pair.refresh_token),
    });

    const output = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    for (const canary of canaries) expect(output).not.toContain(canary);
  });

  it('write one line per request with request id, route, status, duration and user id', async () => {
    const username = unique();
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: `${username}@example.test`, username, password: 'a sturdy passphrase 42' },
    });
    const pair = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: 'a sturdy passphrase 42' },
      })
    ).json<TokenPairBody>();
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { ...bearer(pair.access_token), 'x-request-id': `trace-${unique()}` },
    });
    const requestId = res.headers['x-request-id'];
    const userId = res.json<{ id: string }>().id;
    const entries = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.reqId === requestId && entry.msg === 'request completed');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      method: 'GET',
      route: '/api/v1/users/me',
      status: 200,
      user_id: userId,
    });
    expect(typeof entries[0]?.duration_ms).toBe('number');
  });
});
