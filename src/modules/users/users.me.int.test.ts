import { describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  login,
  problemOf,
  strongPassword,
  unique,
} from '../../../test/helpers.js';
import { admin, t, useUsersApp, userOf } from './users.test-support.js';

useUsersApp();

describe('GET /users/me', () => {
  it('returns the caller’s own profile with an ETag and no secrets', async () => {
    const me = await createUser(t.app, 'nurse');
    const res = await api(t.app).as(me).get('/users/me');
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
      const res = await api(t.app).as(u).get('/users/me');
      expect(res.statusCode, role).toBe(200);
      expect(userOf(res).role).toBe(role);
    }
  });

  it('needs a token: 401 with WWW-Authenticate', async () => {
    const res = await api(t.app).get('/users/me');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(problemOf(res).code).toBe('unauthorized');
  });
});

describe('PATCH /users/me', () => {
  it('updates the full name and username and returns a new ETag', async () => {
    const me = await createUser(t.app, 'user');
    const before = await api(t.app).as(me).get('/users/me');
    const newName = unique('renamed');
    const res = await api(t.app).as(me).patch('/users/me', {
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
    expect(userOf(await api(t.app).as(me).get('/users/me')).full_name).toBe('Grace Hopper');
  });

  it('is remembered for AUTH_CACHE_MS, yet every change shows at once on this instance', async () => {
    const me = await createUser(t.app, 'nurse');
    const read = async () => userOf(await api(t.app).as(me).get('/users/me'));
    const first = await read();
    // Its own edit, an admin's edit and a new login each show on the very next read, although
    // the profile was just remembered (profile-cache.ts).
    await api(t.app).as(me).patch('/users/me', { full_name: 'Own Edit' });
    expect(await read()).toMatchObject({ full_name: 'Own Edit', version: first.version + 1 });
    const byAdmin = await api(t.app)
      .as(admin)
      .patch(
        `/users/${me.id}`,
        { full_name: 'Admin Edit' },
        { headers: { 'if-match': `"v${String(first.version + 1)}"` } },
      );
    expect(byAdmin.statusCode, byAdmin.body).toBe(200);
    expect(await read()).toMatchObject({ full_name: 'Admin Edit', version: first.version + 2 });
    const before = (await read()).last_login_at;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await login(t.app, me.email, strongPassword);
    expect((await read()).last_login_at).not.toBe(before);
  });

  it('refuses changing one’s own role, is_active or is_superuser with 403', async () => {
    const me = await createUser(t.app, 'user');
    for (const patch of [{ role: 'admin' }, { is_active: false }, { is_superuser: true }]) {
      const res = await api(t.app).as(me).patch('/users/me', patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
    const after = userOf(await api(t.app).as(me).get('/users/me'));
    expect(after).toMatchObject({ role: 'user', is_active: true, is_superuser: false });
    expect(after.version).toBe(1);
  });

  it('needs the correct current_password to change the email', async () => {
    const me = await createUser(t.app, 'receptionist');
    const newEmail = `${unique('new')}@example.test`;

    const without = await api(t.app).as(me).patch('/users/me', { email: newEmail });
    expect(without.statusCode).toBe(400);
    expect(problemOf(without).errors?.[0]?.field).toBe('body.current_password');

    const wrong = await api(t.app).as(me).patch('/users/me', {
      email: newEmail,
      current_password: 'not my password at all',
    });
    expect(wrong.statusCode).toBe(400);
    expect(problemOf(wrong).errors?.[0]?.field).toBe('body.current_password');
    expect(userOf(await api(t.app).as(me).get('/users/me')).email).toBe(me.email);

    const right = await api(t.app).as(me).patch('/users/me', {
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
    const dupName = await api(t.app).as(me).patch('/users/me', {
      username: other.username.toUpperCase(),
    });
    expect(dupName.statusCode).toBe(409);
    expect(problemOf(dupName).code).toBe('conflict');
    const dupEmail = await api(t.app).as(me).patch('/users/me', {
      email: other.email,
      current_password: strongPassword,
    });
    expect(dupEmail.statusCode).toBe(409);
    expect(userOf(await api(t.app).as(me).get('/users/me')).username).toBe(me.username);
  });

  it('rejects unknown properties with 400', async () => {
    const me = await createUser(t.app, 'user');
    const res = await api(t.app).as(me).patch('/users/me', { hashed_password: 'x' });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.field).toBe('body.hashed_password');
  });
});
