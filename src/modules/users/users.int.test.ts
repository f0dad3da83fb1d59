import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/audit.js';
import { users, type Role } from '../../db/schema/users.js';
import {
  bearer,
  buildTestApp,
  createUser,
  login,
  problemOf,
  strongPassword,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';

let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, 'admin');
});
afterAll(async () => {
  await t.close();
});

interface UserBody {
  id: string;
  email: string;
  username: string;
  full_name: string | null;
  role: Role;
  is_active: boolean;
  is_superuser: boolean;
  version: number;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}
interface PageBody<T> {
  items: T[];
  next_cursor: string | null;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function call(
  method: Method,
  url: string,
  token?: string,
  payload?: object,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { ...(token === undefined ? {} : bearer(token)), ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
}

/** No response may ever carry a password hash (or anything that looks like one). */
function expectNoSecrets(res: LightMyRequestResponse): void {
  expect(res.body).not.toMatch(/hashed_password|hashedPassword|\$argon2|\$2[aby]\$/);
}

function userOf(res: LightMyRequestResponse): UserBody {
  expectNoSecrets(res);
  return res.json<UserBody>();
}

/** Admin creates an account through the API; returns the created user. */
async function adminCreate(
  role: Role,
  extra: { full_name?: string; username?: string; email?: string } = {},
): Promise<UserBody> {
  const username = extra.username ?? unique(role);
  const res = await call('POST', '/users', admin.accessToken, {
    email: extra.email ?? `${username}@example.test`,
    username,
    password: strongPassword,
    role,
    ...(extra.full_name === undefined ? {} : { full_name: extra.full_name }),
  });
  expect(res.statusCode, res.body).toBe(201);
  return userOf(res);
}

/** Every active doctor visible through GET /doctors, following the cursor to the end. */
async function allDoctors(token: string): Promise<{ id: string; full_name: string | null }[]> {
  const out: { id: string; full_name: string | null }[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const query: string = cursor === null ? '?limit=100' : `?limit=100&cursor=${cursor}`;
    const res = await call('GET', `/doctors${query}`, token);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PageBody<{ id: string; full_name: string | null }>>();
    out.push(...body.items);
    cursor = body.next_cursor;
    if (cursor === null) return out;
  }
  throw new Error('doctor list did not end');
}

describe('GET /users/me', () => {
  it('returns the caller’s own profile with an ETag and no secrets', async () => {
    const me = await createUser(t.app, 'nurse');
    const res = await call('GET', '/users/me', me.accessToken);
    expect(res.statusCode).toBe(200);
    const body = userOf(res);
    expect(body).toMatchObject({
      id: me.id,
      email: me.email,
      username: me.username,
      role: 'nurse',
      is_active: true,
      is_superuser: false,
    });
    expect(body.last_login_at).not.toBeNull();
    expect(res.headers.etag).toBe(`"v${body.version}"`);
  });

  it('works for every role, guests included', async () => {
    for (const role of ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'] as const) {
      const u = await createUser(t.app, role);
      const res = await call('GET', '/users/me', u.accessToken);
      expect(res.statusCode, role).toBe(200);
      expect(userOf(res).role).toBe(role);
    }
  });

  it('needs a token: 401 with WWW-Authenticate', async () => {
    const res = await call('GET', '/users/me');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(problemOf(res).code).toBe('unauthorized');
  });
});

describe('PATCH /users/me', () => {
  it('updates the full name and username and returns a new ETag', async () => {
    const me = await createUser(t.app, 'user');
    const before = await call('GET', '/users/me', me.accessToken);
    const newName = unique('renamed');
    const res = await call('PATCH', '/users/me', me.accessToken, {
      full_name: 'Grace Hopper',
      username: newName,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = userOf(res);
    expect(body).toMatchObject({ id: me.id, full_name: 'Grace Hopper', username: newName });
    expect(body.version).toBe(userOf(before).version + 1);
    expect(res.headers.etag).toBe(`"v${body.version}"`);
    expect(res.headers.etag).not.toBe(before.headers.etag);
    // The change is persisted.
    expect(userOf(await call('GET', '/users/me', me.accessToken)).full_name).toBe('Grace Hopper');
  });

  it('refuses changing one’s own role, is_active or is_superuser with 403', async () => {
    const me = await createUser(t.app, 'user');
    for (const patch of [{ role: 'admin' }, { is_active: false }, { is_superuser: true }]) {
      const res = await call('PATCH', '/users/me', me.accessToken, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
    const after = userOf(await call('GET', '/users/me', me.accessToken));
    expect(after).toMatchObject({ role: 'user', is_active: true, is_superuser: false });
    expect(after.version).toBe(1);
  });

  it('needs the correct current_password to change the email', async () => {
    const me = await createUser(t.app, 'receptionist');
    const newEmail = `${unique('new')}@example.test`;

    const without = await call('PATCH', '/users/me', me.accessToken, { email: newEmail });
    expect(without.statusCode).toBe(400);
    expect(problemOf(without).errors?.[0]?.field).toBe('body.current_password');

    const wrong = await call('PATCH', '/users/me', me.accessToken, {
      email: newEmail,
      current_password: 'not my password at all',
    });
    expect(wrong.statusCode).toBe(400);
    expect(problemOf(wrong).errors?.[0]?.field).toBe('body.current_password');
    expect(userOf(await call('GET', '/users/me', me.accessToken)).email).toBe(me.email);

    const right = await call('PATCH', '/users/me', me.accessToken, {
      email: newEmail,
      current_password: strongPassword,
    });
    expect(right.statusCode, right.body).toBe(200);
    expect(userOf(right).email).toBe(newEmail);
    // The new email logs in; the old one no longer does.
    await expect(login(t.app, newEmail, strongPassword)).resolves.toHaveProperty('access_token');
    await expect(login(t.app, me.email, strongPassword)).rejects.toThrow(/401/);
  });

  it('refuses a username (any case) or email already taken with 409', async () => {
    const me = await createUser(t.app, 'user');
    const other = await createUser(t.app, 'user');
    const dupName = await call('PATCH', '/users/me', me.accessToken, {
      username: other.username.toUpperCase(),
    });
    expect(dupName.statusCode).toBe(409);
    expect(problemOf(dupName).code).toBe('conflict');
    const dupEmail = await call('PATCH', '/users/me', me.accessToken, {
      email: other.email,
      current_password: strongPassword,
    });
    expect(dupEmail.statusCode).toBe(409);
    expect(userOf(await call('GET', '/users/me', me.accessToken)).username).toBe(me.username);
  });

  it('rejects unknown properties with 400', async () => {
    const me = await createUser(t.app, 'user');
    const res = await call('PATCH', '/users/me', me.accessToken, { hashed_password: 'x' });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.field).toBe('body.hashed_password');
  });
});

describe('POST /users (admin)', () => {
  it('creates a staff account: 201, Location, role set, no secrets; it can log in', async () => {
    const username = unique('doc');
    const email = `${username}@example.test`;
    const res = await call('POST', '/users', admin.accessToken, {
      email,
      username,
      password: strongPassword,
      full_name: 'Dr. Who',
      role: 'doctor',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = userOf(res);
    expect(body).toMatchObject({
      email,
      username,
      full_name: 'Dr. Who',
      role: 'doctor',
      is_active: true,
      is_superuser: false,
      last_login_at: null,
    });
    expect(res.headers.location).toBe(`/api/v1/users/${body.id}`);
    expect(res.headers.etag).toBe(`"v${body.version}"`);
    const tokens = await login(t.app, email, strongPassword);
    expect(userOf(await call('GET', '/users/me', tokens.access_token)).role).toBe('doctor');
  });

  it('refuses a duplicate email or username with 409', async () => {
    const first = await adminCreate('nurse');
    const dupEmail = await call('POST', '/users', admin.accessToken, {
      email: first.email.toUpperCase(),
      username: unique(),
      password: strongPassword,
      role: 'nurse',
    });
    expect(dupEmail.statusCode).toBe(409);
    expect(problemOf(dupEmail).code).toBe('conflict');
    const dupName = await call('POST', '/users', admin.accessToken, {
      email: `${unique()}@example.test`,
      username: first.username,
      password: strongPassword,
      role: 'nurse',
    });
    expect(dupName.statusCode).toBe(409);
  });

  it('refuses a common password with 400 on body.password', async () => {
    const username = unique();
    const res = await call('POST', '/users', admin.accessToken, {
      email: `${username}@example.test`,
      username,
      password: 'password123',
      role: 'receptionist',
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.field).toBe('body.password');
  });

  it('rejects an unknown role or missing fields with 400', async () => {
    const username = unique();
    const badRole = await call('POST', '/users', admin.accessToken, {
      email: `${username}@example.test`,
      username,
      password: strongPassword,
      role: 'superadmin',
    });
    expect(badRole.statusCode).toBe(400);
    const missing = await call('POST', '/users', admin.accessToken, { username });
    expect(missing.statusCode).toBe(400);
  });

  it('is forbidden to non-admins', async () => {
    const doctor = await createUser(t.app, 'doctor');
    const username = unique();
    const res = await call('POST', '/users', doctor.accessToken, {
      email: `${username}@example.test`,
      username,
      password: strongPassword,
      role: 'admin',
    });
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
  });
});

describe('GET /users (admin)', () => {
  it('filters by role, is_active and q', async () => {
    const marker = unique('mk');
    const nurse = await adminCreate('nurse', { full_name: `Nurse ${marker}` });
    const doctor = await adminCreate('doctor', { full_name: `Doctor ${marker}` });
    const gone = await adminCreate('doctor', { full_name: `Gone ${marker}` });
    expect((await call('DELETE', `/users/${gone.id}`, admin.accessToken)).statusCode).toBe(204);
    const unrelated = await adminCreate('nurse');

    const byQ = await call('GET', `/users?q=${marker}`, admin.accessToken);
    expect(byQ.statusCode).toBe(200);
    expectNoSecrets(byQ);
    const qIds = byQ.json<PageBody<UserBody>>().items.map((u) => u.id);
    expect(qIds.sort()).toEqual([nurse.id, doctor.id, gone.id].sort());
    expect(qIds).not.toContain(unrelated.id);

    // q matches the username and email too, case-insensitively.
    const byName = await call(
      'GET',
      `/users?q=${unrelated.username.toUpperCase()}`,
      admin.accessToken,
    );
    expect(byName.json<PageBody<UserBody>>().items.map((u) => u.id)).toEqual([unrelated.id]);

    const byRole = await call('GET', `/users?q=${marker}&role=doctor`, admin.accessToken);
    const roleIds = byRole.json<PageBody<UserBody>>().items.map((u) => u.id);
    expect(roleIds.sort()).toEqual([doctor.id, gone.id].sort());

    const active = await call(
      'GET',
      `/users?q=${marker}&role=doctor&is_active=true`,
      admin.accessToken,
    );
    expect(active.json<PageBody<UserBody>>().items.map((u) => u.id)).toEqual([doctor.id]);

    const inactive = await call('GET', `/users?q=${marker}&is_active=false`, admin.accessToken);
    const inactiveItems = inactive.json<PageBody<UserBody>>().items;
    expect(inactiveItems.map((u) => u.id)).toEqual([gone.id]);
    expect(inactiveItems[0]?.is_active).toBe(false);

    const roleOnly = await call('GET', '/users?role=nurse&limit=100', admin.accessToken);
    const roleOnlyItems = roleOnly.json<PageBody<UserBody>>().items;
    expect(roleOnlyItems.length).toBeGreaterThanOrEqual(2);
    expect(roleOnlyItems.every((u) => u.role === 'nurse')).toBe(true);
  });

  it('treats LIKE wildcards in q literally', async () => {
    const marker = unique('pct');
    await adminCreate('user', { full_name: `Percent ${marker}` });
    const res = await call(
      'GET',
      `/users?q=${encodeURIComponent('%')}${marker}`,
      admin.accessToken,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json<PageBody<UserBody>>().items).toEqual([]);
  });

  it('pages with limit and cursor; next_cursor is null on the last page', async () => {
    const marker = unique('pg');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      created.push((await adminCreate('receptionist', { full_name: `Page ${marker} ${i}` })).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    const pageSizes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const url: string = `/users?q=${marker}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const res = await call('GET', url, admin.accessToken);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<PageBody<UserBody>>();
      expect(Object.keys(body).sort()).toEqual(['items', 'next_cursor']);
      pageSizes.push(body.items.length);
      seen.push(...body.items.map((u) => u.id));
      cursor = body.next_cursor;
      if (cursor === null) break;
    }
    expect(pageSizes).toEqual([2, 2, 1]);
    // Every row exactly once, in creation (UUIDv7) order.
    expect(seen).toEqual(created);

    // Exactly `limit` rows left: the last full page says there is no next one.
    const exact = await call('GET', `/users?q=${marker}&limit=5`, admin.accessToken);
    const exactBody = exact.json<PageBody<UserBody>>();
    expect(exactBody.items).toHaveLength(5);
    expect(exactBody.next_cursor).toBeNull();
  });

  it('rejects a garbage cursor or a bad limit with 400, never 500', async () => {
    const cursors = ['garbage', 'bm90LWpzb24', Buffer.from('{"x":1}').toString('base64url')];
    for (const cursor of cursors) {
      const res = await call('GET', `/users?cursor=${cursor}`, admin.accessToken);
      expect(res.statusCode, cursor).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'role=king', 'cursor=%24%24']) {
      const res = await call('GET', `/users?${query}`, admin.accessToken);
      expect(res.statusCode, query).toBe(400);
    }
  });

  // A cursor id the database would refuse (not a UUID) must be caught as a 400, not a 500.
  it('rejects a well-formed cursor whose id is not a UUID with 400, never 500', async () => {
    const cursor = Buffer.from('{"id":"not-a-uuid"}').toString('base64url');
    for (const url of [`/users?cursor=${cursor}`, `/doctors?cursor=${cursor}`]) {
      const res = await call('GET', url, admin.accessToken);
      expect(res.statusCode, url).toBe(400);
      expect(problemOf(res).errors?.[0]?.field).toBe('query.cursor');
    }
  });

  it('is forbidden to non-admins', async () => {
    const nurse = await createUser(t.app, 'nurse');
    const res = await call('GET', '/users', nurse.accessToken);
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
  });
});

describe('GET /users/{id}', () => {
  it('gives an admin the full user', async () => {
    const nurse = await adminCreate('nurse', { full_name: 'Florence' });
    const res = await call('GET', `/users/${nurse.id}`, admin.accessToken);
    expect(res.statusCode).toBe(200);
    const body = userOf(res);
    expect(body).toEqual(nurse);
    expect(res.headers.etag).toBe(`"v${nurse.version}"`);
  });

  it('gives an admin 404 for an unknown id and 400 for a malformed one', async () => {
    const unknown = await call('GET', `/users/${randomUUID()}`, admin.accessToken);
    expect(unknown.statusCode).toBe(404);
    expect(problemOf(unknown).code).toBe('not_found');
    const malformed = await call('GET', '/users/not-a-uuid', admin.accessToken);
    expect(malformed.statusCode).toBe(400);
  });

  it('gives other staff only {id, full_name, role} of an active doctor', async () => {
    const doctor = await adminCreate('doctor', { full_name: 'Dr. Quinn' });
    for (const role of ['doctor', 'nurse', 'receptionist'] as const) {
      const staff = await createUser(t.app, role);
      const res = await call('GET', `/users/${doctor.id}`, staff.accessToken);
      expect(res.statusCode, role).toBe(200);
      expectNoSecrets(res);
      expect(res.json()).toEqual({ id: doctor.id, full_name: 'Dr. Quinn', role: 'doctor' });
      expect(res.headers.etag).toBeUndefined();
    }
  });

  it('gives other staff 404 for a non-doctor, an inactive doctor or an unknown id', async () => {
    const nurse = await adminCreate('nurse');
    const adminTarget = await adminCreate('admin');
    const inactiveDoctor = await adminCreate('doctor');
    expect(
      (await call('DELETE', `/users/${inactiveDoctor.id}`, admin.accessToken)).statusCode,
    ).toBe(204);
    for (const role of ['doctor', 'nurse', 'receptionist'] as const) {
      const staff = await createUser(t.app, role);
      for (const id of [nurse.id, adminTarget.id, inactiveDoctor.id, randomUUID(), staff.id]) {
        const res = await call('GET', `/users/${id}`, staff.accessToken);
        // A doctor may see their own public profile; everything else is hidden.
        const expected = role === 'doctor' && id === staff.id ? 200 : 404;
        expect(res.statusCode, `${role} -> ${id}`).toBe(expected);
        if (expected === 404) expect(problemOf(res).code).toBe('not_found');
      }
    }
  });

  it('is forbidden to user and guest', async () => {
    const doctor = await adminCreate('doctor');
    for (const role of ['user', 'guest'] as const) {
      const u = await createUser(t.app, role);
      const res = await call('GET', `/users/${doctor.id}`, u.accessToken);
      expect(res.statusCode, role).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
  });
});

describe('PATCH /users/{id} (admin)', () => {
  it('honours If-Match: a stale ETag is 412, the current one 200 with a new ETag', async () => {
    const target = await adminCreate('receptionist');
    const read = await call('GET', `/users/${target.id}`, admin.accessToken);
    const etag = read.headers.etag as string;
    expect(etag).toBe(`"v${target.version}"`);

    const first = await call(
      'PATCH',
      `/users/${target.id}`,
      admin.accessToken,
      { full_name: 'First' },
      { 'if-match': etag },
    );
    expect(first.statusCode, first.body).toBe(200);
    const updated = userOf(first);
    expect(updated.full_name).toBe('First');
    expect(updated.version).toBe(target.version + 1);
    expect(first.headers.etag).toBe(`"v${updated.version}"`);
    expect(first.headers.etag).not.toBe(etag);

    const stale = await call(
      'PATCH',
      `/users/${target.id}`,
      admin.accessToken,
      { full_name: 'Second' },
      { 'if-match': etag },
    );
    expect(stale.statusCode).toBe(412);
    expect(problemOf(stale).code).toBe('precondition_failed');
    const weak = await call(
      'PATCH',
      `/users/${target.id}`,
      admin.accessToken,
      { full_name: 'Weak' },
      { 'if-match': `W/${first.headers.etag as string}` },
    );
    expect(weak.statusCode).toBe(412);
    const after = userOf(await call('GET', `/users/${target.id}`, admin.accessToken));
    expect(after.full_name).toBe('First');

    // Without If-Match there is no precondition.
    const noHeader = await call('PATCH', `/users/${target.id}`, admin.accessToken, {
      full_name: 'Third',
    });
    expect(noHeader.statusCode).toBe(200);
    expect(userOf(noHeader).full_name).toBe('Third');
  });

  it('a role change revokes the user’s existing tokens', async () => {
    const victim = await createUser(t.app, 'nurse');
    expect((await call('GET', '/users/me', victim.accessToken)).statusCode).toBe(200);
    const res = await call('PATCH', `/users/${victim.id}`, admin.accessToken, {
      role: 'receptionist',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(userOf(res).role).toBe('receptionist');

    const old = await call('GET', '/users/me', victim.accessToken);
    expect(old.statusCode).toBe(401);
    expect(old.headers['www-authenticate']).toBe('Bearer');
    const refresh = await call('POST', '/auth/refresh', undefined, {
      refresh_token: victim.refreshToken,
    });
    expect(refresh.statusCode).toBe(401);
    // A new login carries the new role.
    const fresh = await login(t.app, victim.email, strongPassword);
    const me = userOf(await call('GET', '/users/me', fresh.access_token));
    expect(me.role).toBe('receptionist');
  });

  it('a change that is not about privileges keeps the sessions', async () => {
    const victim = await createUser(t.app, 'doctor');
    const res = await call('PATCH', `/users/${victim.id}`, admin.accessToken, {
      full_name: 'Still Logged In',
      role: 'doctor',
    });
    expect(res.statusCode).toBe(200);
    expect((await call('GET', '/users/me', victim.accessToken)).statusCode).toBe(200);
  });

  it('deactivation through PATCH revokes the sessions and blocks login', async () => {
    const victim = await createUser(t.app, 'user');
    const res = await call('PATCH', `/users/${victim.id}`, admin.accessToken, {
      is_active: false,
    });
    expect(res.statusCode).toBe(200);
    expect(userOf(res).is_active).toBe(false);
    expect((await call('GET', '/users/me', victim.accessToken)).statusCode).toBe(401);
    await expect(login(t.app, victim.email, strongPassword)).rejects.toThrow(/401/);
  });

  it('setting a password revokes the sessions; the new password logs in', async () => {
    const victim = await createUser(t.app, 'receptionist');
    const newPassword = 'another sturdy passphrase 77';
    const res = await call('PATCH', `/users/${victim.id}`, admin.accessToken, {
      password: newPassword,
    });
    expect(res.statusCode, res.body).toBe(200);
    expectNoSecrets(res);
    expect((await call('GET', '/users/me', victim.accessToken)).statusCode).toBe(401);
    await expect(login(t.app, victim.email, strongPassword)).rejects.toThrow(/401/);
    await expect(login(t.app, victim.email, newPassword)).resolves.toHaveProperty('access_token');
  });

  it('refuses a common password with 400', async () => {
    const victim = await createUser(t.app, 'user');
    const res = await call('PATCH', `/users/${victim.id}`, admin.accessToken, {
      password: 'password123',
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.field).toBe('body.password');
    expect((await call('GET', '/users/me', victim.accessToken)).statusCode).toBe(200);
  });

  it('refuses an admin demoting or deactivating themself with 409', async () => {
    const self = await createUser(t.app, 'admin');
    for (const patch of [{ role: 'doctor' }, { is_active: false }, { is_superuser: false }]) {
      const res = await call('PATCH', `/users/${self.id}`, self.accessToken, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(409);
      expect(problemOf(res).code).toBe('conflict');
    }
    const me = userOf(await call('GET', '/users/me', self.accessToken));
    expect(me).toMatchObject({ role: 'admin', is_active: true });
    // Harmless self-edits still work.
    const rename = await call('PATCH', `/users/${self.id}`, self.accessToken, {
      full_name: 'Admin Self',
      role: 'admin',
    });
    expect(rename.statusCode).toBe(200);
  });

  it('gives 409 for a duplicate username and 404 for an unknown id', async () => {
    const a = await adminCreate('user');
    const b = await adminCreate('user');
    const dup = await call('PATCH', `/users/${a.id}`, admin.accessToken, {
      username: b.username,
    });
    expect(dup.statusCode).toBe(409);
    const unknown = await call('PATCH', `/users/${randomUUID()}`, admin.accessToken, {
      full_name: 'Nobody',
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('is forbidden to non-admins', async () => {
    const doctor = await createUser(t.app, 'doctor');
    const res = await call('PATCH', `/users/${doctor.id}`, doctor.accessToken, { role: 'admin' });
    expect(res.statusCode).toBe(403);
    expect(userOf(await call('GET', '/users/me', doctor.accessToken)).role).toBe('doctor');
  });
});

describe('DELETE /users/{id} (admin)', () => {
  it('deactivates: 204, the token stops working and login fails', async () => {
    const victim = await createUser(t.app, 'nurse');
    const res = await call('DELETE', `/users/${victim.id}`, admin.accessToken);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    const old = await call('GET', '/users/me', victim.accessToken);
    expect(old.statusCode).toBe(401);
    expect(old.headers['www-authenticate']).toBe('Bearer');
    await expect(login(t.app, victim.email, strongPassword)).rejects.toThrow(/401/);
    const refresh = await call('POST', '/auth/refresh', undefined, {
      refresh_token: victim.refreshToken,
    });
    expect(refresh.statusCode).toBe(401);

    // Soft delete: the row remains, inactive.
    const row = userOf(await call('GET', `/users/${victim.id}`, admin.accessToken));
    expect(row.is_active).toBe(false);
  });

  it('refuses self-deletion with 409', async () => {
    const self = await createUser(t.app, 'admin');
    const res = await call('DELETE', `/users/${self.id}`, self.accessToken);
    expect(res.statusCode).toBe(409);
    expect(problemOf(res).code).toBe('conflict');
    expect((await call('GET', '/users/me', self.accessToken)).statusCode).toBe(200);
  });

  it('gives 404 for an unknown id and 403 to non-admins', async () => {
    expect((await call('DELETE', `/users/${randomUUID()}`, admin.accessToken)).statusCode).toBe(
      404,
    );
    const nurse = await createUser(t.app, 'nurse');
    const other = await createUser(t.app, 'user');
    const res = await call('DELETE', `/users/${other.id}`, nurse.accessToken);
    expect(res.statusCode).toBe(403);
    expect((await call('GET', '/users/me', other.accessToken)).statusCode).toBe(200);
  });
});

describe('GET /doctors', () => {
  it('lists active doctors as {id, full_name} to staff, without deactivated ones', async () => {
    const active = await adminCreate('doctor', { full_name: 'Dr. Active' });
    const inactive = await adminCreate('doctor', { full_name: 'Dr. Inactive' });
    const nurse = await adminCreate('nurse', { full_name: 'Not A Doctor' });
    expect((await call('DELETE', `/users/${inactive.id}`, admin.accessToken)).statusCode).toBe(204);

    for (const role of ['admin', 'doctor', 'nurse', 'receptionist'] as const) {
      const staff = await createUser(t.app, role);
      const doctors = await allDoctors(staff.accessToken);
      const ids = doctors.map((d) => d.id);
      expect(doctors).toContainEqual({ id: active.id, full_name: 'Dr. Active' });
      expect(ids, role).not.toContain(inactive.id);
      expect(ids, role).not.toContain(nurse.id);
      for (const d of doctors) expect(Object.keys(d).sort()).toEqual(['full_name', 'id']);
    }
  });

  it('pages with limit and cursor', async () => {
    await adminCreate('doctor');
    await adminCreate('doctor');
    const first = await call('GET', '/doctors?limit=1', admin.accessToken);
    const body = first.json<PageBody<{ id: string }>>();
    expect(body.items).toHaveLength(1);
    expect(body.next_cursor).not.toBeNull();
    const second = await call(
      'GET',
      `/doctors?limit=1&cursor=${body.next_cursor as string}`,
      admin.accessToken,
    );
    const secondBody = second.json<PageBody<{ id: string }>>();
    expect(secondBody.items).toHaveLength(1);
    expect(secondBody.items[0]?.id).not.toBe(body.items[0]?.id);
    expect((await call('GET', '/doctors?cursor=garbage', admin.accessToken)).statusCode).toBe(400);
  });

  it('is forbidden to user and guest, and needs a token', async () => {
    for (const role of ['user', 'guest'] as const) {
      const u = await createUser(t.app, role);
      const res = await call('GET', '/doctors', u.accessToken);
      expect(res.statusCode, role).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
    const anon = await call('GET', '/doctors');
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['www-authenticate']).toBe('Bearer');
  });
});

describe('audit of account administration', () => {
  /** Every audit row about one account, oldest first. */
  function auditAbout(userId: string) {
    return t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.resourceId, userId))
      .orderBy(asc(auditLog.seq));
  }

  it('records create, role change, deactivation and delete with the admin as actor', async () => {
    const created = await adminCreate('nurse', { full_name: 'Audited Nurse' });
    const promote = await call('PATCH', `/users/${created.id}`, admin.accessToken, {
      role: 'doctor',
      email: `${unique('moved')}@example.test`,
    });
    expect(promote.statusCode).toBe(200);
    const deactivate = await call('PATCH', `/users/${created.id}`, admin.accessToken, {
      is_active: false,
    });
    expect(deactivate.statusCode).toBe(200);
    const removed = await adminCreate('receptionist');
    expect((await call('DELETE', `/users/${removed.id}`, admin.accessToken)).statusCode).toBe(204);

    const rows = await auditAbout(created.id);
    expect(rows.map((r) => [r.action, r.actorId, r.actorRole, r.resourceType])).toEqual([
      ['user.create', admin.id, 'admin', 'user'],
      ['user.update', admin.id, 'admin', 'user'],
      ['user.update', admin.id, 'admin', 'user'],
    ]);
    expect(rows[0]?.details).toEqual({ role: 'nurse' });
    expect(rows[1]?.details).toMatchObject({
      fields: 'email,role',
      role_from: 'nurse',
      role_to: 'doctor',
      sessions_ended: 'role_changed',
    });
    expect(rows[2]?.details).toMatchObject({ deactivated: true, sessions_ended: 'deactivated' });
    // Field names only: neither the new email nor the name is copied into the trail.
    expect(JSON.stringify(rows)).not.toContain('@example.test');
    expect(JSON.stringify(rows)).not.toContain('Audited Nurse');

    const deleted = await auditAbout(removed.id);
    expect(deleted.map((r) => r.action)).toEqual(['user.create', 'user.deactivate']);
    expect(deleted[1]?.actorId).toBe(admin.id);
  });

  it('unlock: 204 for a locked or unlocked account, 404 unknown, audited with the admin', async () => {
    const target = await createUser(t.app, 'receptionist');
    await t.app.ctx.db
      .update(users)
      .set({ lockedUntil: new Date(Date.now() + 600_000), lockoutCount: 2, failedLoginCount: 3 })
      .where(eq(users.id, target.id));
    await expect(login(t.app, target.email, target.password)).rejects.toThrow(/401/);
    const res = await call('POST', `/admin/users/${target.id}/unlock`, admin.accessToken);
    expect(res.statusCode).toBe(204);
    expect((await login(t.app, target.email, target.password)).access_token).toBeTruthy();
    const [row] = await t.app.ctx.db.select().from(users).where(eq(users.id, target.id));
    expect(row).toMatchObject({ lockedUntil: null, lockoutCount: 0, failedLoginCount: 0 });
    const again = await call('POST', `/admin/users/${target.id}/unlock`, admin.accessToken);
    expect(again.statusCode).toBe(204);
    expect(
      (await call('POST', `/admin/users/${randomUUID()}/unlock`, admin.accessToken)).statusCode,
    ).toBe(404);
    const forbidden = await call('POST', `/admin/users/${target.id}/unlock`, target.accessToken);
    expect(forbidden.statusCode).toBe(403);

    const unlocks = (await auditAbout(target.id)).filter((r) => r.action === 'user.unlock');
    expect(unlocks.map((r) => [r.actorId, r.details])).toEqual([
      [admin.id, { was_locked: true }],
      [admin.id, { was_locked: false }],
    ]);
  });
});
