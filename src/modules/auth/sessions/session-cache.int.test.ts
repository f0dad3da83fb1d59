import { setTimeout as sleep } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, createUser, type TestApp } from '../../../../test/helpers.js';
import { sessions } from '../../../db/schema/sessions.js';

/**
 * SECURITY.md: revocation reaches access tokens within 1 s on every instance. Each instance
 * remembers session states for at most AUTH_CACHE_MS (<= 1 s); the revoking instance forgets
 * them at once.
 */
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({ AUTH_CACHE_MS: '800' });
});
afterAll(async () => {
  await t.close();
});

async function statusOf(token: string): Promise<number> {
  const res = await t.app.inject({
    method: 'GET',
    url: '/api/v1/users/me',
    headers: bearer(token),
  });
  return res.statusCode;
}

describe('session state cache', () => {
  it('a revocation made elsewhere (another instance) reaches the token within 1 s', async () => {
    const user = await createUser(t.app, 'nurse');
    expect(await statusOf(user.accessToken)).toBe(200);
    // Straight to the database, as another instance would: this process's cache is not told.
    const revokedAt = Date.now();
    await t.app.ctx.db
      .update(sessions)
      .set({ revokedAt: sql`now()`, revokedReason: 'logout' })
      .where(eq(sessions.userId, user.id));
    let status = await statusOf(user.accessToken);
    while (status === 200 && Date.now() - revokedAt < 2_000) {
      await sleep(50);
      status = await statusOf(user.accessToken);
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(1_000);
  });

  it('the cache serves repeated requests: a state read within the TTL is reused', async () => {
    const user = await createUser(t.app, 'nurse');
    expect(await statusOf(user.accessToken)).toBe(200);
    await t.app.ctx.db
      .update(sessions)
      .set({ revokedAt: sql`now()`, revokedReason: 'logout' })
      .where(eq(sessions.userId, user.id));
    // Still remembered as live on this instance (bounded by the TTL, proven above).
    expect(await statusOf(user.accessToken)).toBe(200);
  });

  it('on the revoking instance, logout takes effect on the very next request', async () => {
    const user = await createUser(t.app, 'nurse');
    expect(await statusOf(user.accessToken)).toBe(200);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(user.accessToken),
    });
    expect(out.statusCode).toBe(204);
    expect(await statusOf(user.accessToken)).toBe(401);
  });

  it('a role change ends sessions at once on the instance that made it', async () => {
    const admin = await createUser(t.app, 'admin');
    const user = await createUser(t.app, 'nurse');
    expect(await statusOf(user.accessToken)).toBe(200);
    const current = await t.app.inject({
      method: 'GET',
      url: `/api/v1/users/${user.id}`,
      headers: bearer(admin.accessToken),
    });
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: { ...bearer(admin.accessToken), 'if-match': String(current.headers.etag) },
      payload: { role: 'receptionist' },
    });
    expect(res.statusCode).toBe(200);
    expect(await statusOf(user.accessToken)).toBe(401);
  });
});
