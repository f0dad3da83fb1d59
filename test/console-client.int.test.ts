import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMedcoreClient } from '../client/src/index.js';
import { buildTestApp, createUser, strongPassword, type TestApp } from './helpers.js';

/**
 * The console's sign-in through the typed client over a real socket, as the console does it: the
 * cookies come back in Set-Cookie (a browser keeps them; here they are carried by hand), the CSRF
 * header is a typed parameter, and no answer body holds a refresh token.
 */
let t: TestApp;
let baseUrl: string;

beforeAll(async () => {
  t = await buildTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${String((t.app.server.address() as AddressInfo).port)}`;
});
afterAll(async () => {
  await t.close();
});

/** name=value of each Set-Cookie line (attributes dropped), as a browser would send them back. */
function jar(response: Response): Map<string, string> {
  return new Map(
    response.headers.getSetCookie().map((line) => {
      const pair = line.split(';')[0] ?? '';
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

describe('console sessions through the typed client', () => {
  it('signs in, refreshes with the cookie and the CSRF header, and signs out', async () => {
    const nurse = await createUser(t.app, 'nurse');
    const api = createMedcoreClient({ baseUrl, credentials: 'include' });
    const login = await api.POST('/api/v1/auth/console/login', {
      body: { email: nurse.email, password: strongPassword },
    });
    expect(login.response.status).toBe(200);
    const session = login.data && 'access_token' in login.data ? login.data : undefined;
    expect(session?.user.role).toBe('nurse');
    expect(JSON.stringify(login.data)).not.toMatch(/refresh/);
    const cookies = jar(login.response);
    const csrf = cookies.get('medcore_csrf') ?? '';
    const cookie = `medcore_refresh=${cookies.get('medcore_refresh') ?? ''}; medcore_csrf=${csrf}`;

    const refused = await api.POST('/api/v1/auth/console/refresh', { headers: { cookie } });
    expect(refused.response.status).toBe(403);
    expect(refused.error?.code).toBe('csrf_failed');

    const refreshed = await api.POST('/api/v1/auth/console/refresh', {
      params: { header: { 'x-csrf-token': csrf } },
      headers: { cookie },
    });
    expect(refreshed.response.status).toBe(200);
    expect(refreshed.data?.user.id).toBe(nurse.id);
    expect(JSON.stringify(refreshed.data)).not.toMatch(/refresh/);
    const next = jar(refreshed.response);

    const out = await api.POST('/api/v1/auth/console/logout', {
      params: { header: { 'x-csrf-token': csrf } },
      headers: { cookie: `medcore_refresh=${next.get('medcore_refresh') ?? ''}` },
    });
    expect(out.response.status).toBe(204);
    expect(jar(out.response).get('medcore_refresh')).toBe('');
  });
});
