import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/audit.js';
import { users } from '../../db/schema/users.js';
import {
  api,
  createUser,
  login,
  problemOf,
  strongPassword,
  unique,
} from '../../../test/helpers.js';
import {
  t,
  admin,
  useUsersApp,
  expectNoSecrets,
  userOf,
  adminCreate,
} from './users.test-support.js';

useUsersApp();

describe('POST /users (admin)', () => {
  it('creates a staff account: 201, Location, role set, no secrets; it can log in', async () => {
    const username = unique('doc');
    const email = `${username}@example.test`;
    const res = await api(t.app).as(admin).post('/users', {
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
    expect(userOf(await api(t.app).as(tokens.access_token).get('/users/me')).role).toBe('doctor');
  });

  it('refuses a duplicate email or username with 409', async () => {
    const first = await adminCreate('nurse');
    const dupEmail = await api(t.app).as(admin).post('/users', {
      email: first.email.toUpperCase(),
      username: unique(),
      password: strongPassword,
      role: 'nurse',
    });
    expect(dupEmail.statusCode).toBe(409);
    expect(problemOf(dupEmail).code).toBe('conflict');
    const dupName = await api(t.app)
      .as(admin)
      .post('/users', {
        email: `${unique()}@example.test`,
        username: first.username,
        password: strongPassword,
        role: 'nurse',
      });
    expect(dupName.statusCode).toBe(409);
  });

  it('refuses a common password with 400 on body.password', async () => {
    const username = unique();
    const res = await api(t.app)
      .as(admin)
      .post('/users', {
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
    const badRole = await api(t.app)
      .as(admin)
      .post('/users', {
        email: `${username}@example.test`,
        username,
        password: strongPassword,
        role: 'superadmin',
      });
    expect(badRole.statusCode).toBe(400);
    const missing = await api(t.app).as(admin).post('/users', { username });
    expect(missing.statusCode).toBe(400);
  });

  it('is forbidden to non-admins', async () => {
    const doctor = await createUser(t.app, 'doctor');
    const username = unique();
    const res = await api(t.app)
      .as(doctor)
      .post('/users', {
        email: `${username}@example.test`,
        username,
        password: strongPassword,
        role: 'admin',
      });
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
  });
});

describe('PATCH /users/{id} (admin)', () => {
  it('honours If-Match: a stale ETag is 412, the current one 200 with a new ETag', async () => {
    const target = await adminCreate('receptionist');
    const read = await api(t.app).as(admin).get(`/users/${target.id}`);
    const etag = read.headers.etag as string;
    expect(etag).toBe(`"v${target.version}"`);

    const first = await api(t.app)
      .as(admin)
      .patch(`/users/${target.id}`, { full_name: 'First' }, { headers: { 'if-match': etag } });
    expect(first.statusCode, first.body).toBe(200);
    const updated = userOf(first);
    expect(updated.full_name).toBe('First');
    expect(updated.version).toBe(target.version + 1);
    expect(first.headers.etag).toBe(`"v${updated.version}"`);
    expect(first.headers.etag).not.toBe(etag);

    const stale = await api(t.app)
      .as(admin)
      .patch(`/users/${target.id}`, { full_name: 'Second' }, { headers: { 'if-match': etag } });
    expect(stale.statusCode).toBe(412);
    expect(problemOf(stale).code).toBe('precondition_failed');
    const weak = await api(t.app)
      .as(admin)
      .patch(
        `/users/${target.id}`,
        { full_name: 'Weak' },
        { headers: { 'if-match': `W/${first.headers.etag as string}` } },
      );
    expect(weak.statusCode).toBe(412);
    const after = userOf(await api(t.app).as(admin).get(`/users/${target.id}`));
    expect(after.full_name).toBe('First');

    // Without If-Match there is no precondition.
    const noHeader = await api(t.app).as(admin).patch(`/users/${target.id}`, {
      full_name: 'Third',
    });
    expect(noHeader.statusCode).toBe(200);
    expect(userOf(noHeader).full_name).toBe('Third');
  });

  it('a role change revokes the user’s existing tokens', async () => {
    const victim = await createUser(t.app, 'nurse');
    expect((await api(t.app).as(victim).get('/users/me')).statusCode).toBe(200);
    const res = await api(t.app).as(admin).patch(`/users/${victim.id}`, {
      role: 'receptionist',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(userOf(res).role).toBe('receptionist');

    const old = await api(t.app).as(victim).get('/users/me');
    expect(old.statusCode).toBe(401);
    expect(old.headers['www-authenticate']).toBe('Bearer');
    const refresh = await api(t.app).post('/auth/refresh', {
      refresh_token: victim.refreshToken,
    });
    expect(refresh.statusCode).toBe(401);
    // A new login carries the new role.
    const fresh = await login(t.app, victim.email, strongPassword);
    const me = userOf(await api(t.app).as(fresh.access_token).get('/users/me'));
    expect(me.role).toBe('receptionist');
  });

  it('a change that is not about privileges keeps the sessions', async () => {
    const victim = await createUser(t.app, 'doctor');
    const res = await api(t.app).as(admin).patch(`/users/${victim.id}`, {
      full_name: 'Still Logged In',
      role: 'doctor',
    });
    expect(res.statusCode).toBe(200);
    expect((await api(t.app).as(victim).get('/users/me')).statusCode).toBe(200);
  });

  it('deactivation through PATCH revokes the sessions and blocks login', async () => {
    const victim = await createUser(t.app, 'user');
    const res = await api(t.app).as(admin).patch(`/users/${victim.id}`, {
      is_active: false,
    });
    expect(res.statusCode).toBe(200);
    expect(userOf(res).is_active).toBe(false);
    expect((await api(t.app).as(victim).get('/users/me')).statusCode).toBe(401);
    await expect(login(t.app, victim.email, strongPassword)).rejects.toThrow(/401/);
  });

  it('setting a password revokes the sessions; the new password logs in', async () => {
    const victim = await createUser(t.app, 'receptionist');
    const newPassword = 'another sturdy passphrase 77';
    const res = await api(t.app).as(admin).patch(`/users/${victim.id}`, {
      password: newPassword,
    });
    expect(res.statusCode, res.body).toBe(200);
    expectNoSecrets(res);
    expect((await api(t.app).as(victim).get('/users/me')).statusCode).toBe(401);
    await expect(login(t.app, victim.email, strongPassword)).rejects.toThrow(/401/);
    await expect(login(t.app, victim.email, newPassword)).resolves.toHaveProperty('access_token');
  });

  it('refuses a common password with 400', async () => {
    const victim = await createUser(t.app, 'user');
    const res = await api(t.app).as(admin).patch(`/users/${victim.id}`, {
      password: 'password123',
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.field).toBe('body.password');
    expect((await api(t.app).as(victim).get('/users/me')).statusCode).toBe(200);
  });

  it('refuses an admin demoting or deactivating themself with 409', async () => {
    const self = await createUser(t.app, 'admin');
    for (const patch of [{ role: 'doctor' }, { is_active: false }, { is_superuser: false }]) {
      const res = await api(t.app).as(self).patch(`/users/${self.id}`, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(409);
      expect(problemOf(res).code).toBe('conflict');
    }
    const me = userOf(await api(t.app).as(self).get('/users/me'));
    expect(me).toMatchObject({ role: 'admin', is_active: true });
    // Harmless self-edits still work.
    const rename = await api(t.app).as(self).patch(`/users/${self.id}`, {
      full_name: 'Admin Self',
      role: 'admin',
    });
    expect(rename.statusCode).toBe(200);
  });

  it('gives 409 for a duplicate username and 404 for an unknown id', async () => {
    const a = await adminCreate('user');
    const b = await adminCreate('user');
    const dup = await api(t.app).as(admin).patch(`/users/${a.id}`, {
      username: b.username,
    });
    expect(dup.statusCode).toBe(409);
    const unknown = await api(t.app).as(admin).patch(`/users/${randomUUID()}`, {
      full_name: 'Nobody',
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('is forbidden to non-admins', async () => {
    const doctor = await createUser(t.app, 'doctor');
    const res = await api(t.app).as(doctor).patch(`/users/${doctor.id}`, { role: 'admin' });
    expect(res.statusCode).toBe(403);
    expect(userOf(await api(t.app).as(doctor).get('/users/me')).role).toBe('doctor');
  });
});

describe('DELETE /users/{id} (admin)', () => {
  it('deactivates: 204, the token stops working and login fails', async () => {
    const victim = await createUser(t.app, 'nurse');
    const res = await api(t.app).as(admin).delete(`/users/${victim.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    const old = await api(t.app).as(victim).get('/users/me');
    expect(old.statusCode).toBe(401);
    expect(old.headers['www-authenticate']).toBe('Bearer');
    await expect(login(t.app, victim.email, strongPassword)).rejects.toThrow(/401/);
    const refresh = await api(t.app).post('/auth/refresh', {
      refresh_token: victim.refreshToken,
    });
    expect(refresh.statusCode).toBe(401);

    // Soft delete: the row remains, inactive.
    const row = userOf(await api(t.app).as(admin).get(`/users/${victim.id}`));
    expect(row.is_active).toBe(false);
  });

  it('refuses self-deletion with 409', async () => {
    const self = await createUser(t.app, 'admin');
    const res = await api(t.app).as(self).delete(`/users/${self.id}`);
    expect(res.statusCode).toBe(409);
    expect(problemOf(res).code).toBe('conflict');
    expect((await api(t.app).as(self).get('/users/me')).statusCode).toBe(200);
  });

  it('gives 404 for an unknown id and 403 to non-admins', async () => {
    expect((await api(t.app).as(admin).delete(`/users/${randomUUID()}`)).statusCode).toBe(404);
    const nurse = await createUser(t.app, 'nurse');
    const other = await createUser(t.app, 'user');
    const res = await api(t.app).as(nurse).delete(`/users/${other.id}`);
    expect(res.statusCode).toBe(403);
    expect((await api(t.app).as(other).get('/users/me')).statusCode).toBe(200);
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
    const promote = await api(t.app)
      .as(admin)
      .patch(`/users/${created.id}`, {
        role: 'doctor',
        email: `${unique('moved')}@example.test`,
      });
    expect(promote.statusCode).toBe(200);
    const deactivate = await api(t.app).as(admin).patch(`/users/${created.id}`, {
      is_active: false,
    });
    expect(deactivate.statusCode).toBe(200);
    const removed = await adminCreate('receptionist');
    expect((await api(t.app).as(admin).delete(`/users/${removed.id}`)).statusCode).toBe(204);

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
    const res = await api(t.app).as(admin).post(`/admin/users/${target.id}/unlock`);
    expect(res.statusCode).toBe(204);
    expect((await login(t.app, target.email, target.password)).access_token).toBeTruthy();
    const [row] = await t.app.ctx.db.select().from(users).where(eq(users.id, target.id));
    expect(row).toMatchObject({ lockedUntil: null, lockoutCount: 0, failedLoginCount: 0 });
    const again = await api(t.app).as(admin).post(`/admin/users/${target.id}/unlock`);
    expect(again.statusCode).toBe(204);
    expect(
      (await api(t.app).as(admin).post(`/admin/users/${randomUUID()}/unlock`)).statusCode,
    ).toBe(404);
    const forbidden = await api(t.app).as(target).post(`/admin/users/${target.id}/unlock`);
    expect(forbidden.statusCode).toBe(403);

    const unlocks = (await auditAbout(target.id)).filter((r) => r.action === 'user.unlock');
    expect(unlocks.map((r) => [r.actorId, r.details])).toEqual([
      [admin.id, { was_locked: true }],
      [admin.id, { was_locked: false }],
    ]);
  });
});
