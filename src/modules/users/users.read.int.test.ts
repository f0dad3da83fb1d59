import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, createUser, problemOf, unique, type PageBody } from '../../../test/helpers.js';
import type { UserDto } from './users.schemas.js';
import {
  t,
  admin,
  useUsersApp,
  expectNoSecrets,
  userOf,
  adminCreate,
  allDoctors,
} from './users.test-support.js';

useUsersApp();

describe('GET /users (admin)', () => {
  it('filters by role, is_active and q', async () => {
    const marker = unique('mk');
    const nurse = await adminCreate('nurse', { full_name: `Nurse ${marker}` });
    const doctor = await adminCreate('doctor', { full_name: `Doctor ${marker}` });
    const gone = await adminCreate('doctor', { full_name: `Gone ${marker}` });
    expect((await api(t.app).as(admin).delete(`/users/${gone.id}`)).statusCode).toBe(204);
    const unrelated = await adminCreate('nurse');

    const byQ = await api(t.app).as(admin).get(`/users?q=${marker}`);
    expect(byQ.statusCode).toBe(200);
    expectNoSecrets(byQ);
    const qIds = byQ.json<PageBody<UserDto>>().items.map((u) => u.id);
    expect(qIds.sort()).toEqual([nurse.id, doctor.id, gone.id].sort());
    expect(qIds).not.toContain(unrelated.id);

    // q matches the username and email too, case-insensitively.
    const byName = await api(t.app).as(admin).get(`/users?q=${unrelated.username.toUpperCase()}`);
    expect(byName.json<PageBody<UserDto>>().items.map((u) => u.id)).toEqual([unrelated.id]);

    const byRole = await api(t.app).as(admin).get(`/users?q=${marker}&role=doctor`);
    const roleIds = byRole.json<PageBody<UserDto>>().items.map((u) => u.id);
    expect(roleIds.sort()).toEqual([doctor.id, gone.id].sort());

    const active = await api(t.app).as(admin).get(`/users?q=${marker}&role=doctor&is_active=true`);
    expect(active.json<PageBody<UserDto>>().items.map((u) => u.id)).toEqual([doctor.id]);

    const inactive = await api(t.app).as(admin).get(`/users?q=${marker}&is_active=false`);
    const inactiveItems = inactive.json<PageBody<UserDto>>().items;
    expect(inactiveItems.map((u) => u.id)).toEqual([gone.id]);
    expect(inactiveItems[0]?.is_active).toBe(false);

    const roleOnly = await api(t.app).as(admin).get('/users?role=nurse&limit=100');
    const roleOnlyItems = roleOnly.json<PageBody<UserDto>>().items;
    expect(roleOnlyItems.length).toBeGreaterThanOrEqual(2);
    expect(roleOnlyItems.every((u) => u.role === 'nurse')).toBe(true);
  });

  it('treats LIKE wildcards in q literally', async () => {
    const marker = unique('pct');
    await adminCreate('user', { full_name: `Percent ${marker}` });
    const res = await api(t.app)
      .as(admin)
      .get(`/users?q=${encodeURIComponent('%')}${marker}`);
    expect(res.statusCode).toBe(200);
    expect(res.json<PageBody<UserDto>>().items).toEqual([]);
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
      const res = await api(t.app).as(admin).get(url);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<PageBody<UserDto>>();
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
    const exact = await api(t.app).as(admin).get(`/users?q=${marker}&limit=5`);
    const exactBody = exact.json<PageBody<UserDto>>();
    expect(exactBody.items).toHaveLength(5);
    expect(exactBody.next_cursor).toBeNull();
  });

  it('rejects a garbage cursor or a bad limit with 400, never 500', async () => {
    const cursors = ['garbage', 'bm90LWpzb24', Buffer.from('{"x":1}').toString('base64url')];
    for (const cursor of cursors) {
      const res = await api(t.app).as(admin).get(`/users?cursor=${cursor}`);
      expect(res.statusCode, cursor).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'role=king', 'cursor=%24%24']) {
      const res = await api(t.app).as(admin).get(`/users?${query}`);
      expect(res.statusCode, query).toBe(400);
    }
  });

  // A cursor id the database would refuse (not a UUID) must be caught as a 400, not a 500.
  it('rejects a well-formed cursor whose id is not a UUID with 400, never 500', async () => {
    const cursor = Buffer.from('{"id":"not-a-uuid"}').toString('base64url');
    for (const url of [`/users?cursor=${cursor}`, `/doctors?cursor=${cursor}`]) {
      const res = await api(t.app).as(admin).get(url);
      expect(res.statusCode, url).toBe(400);
      expect(problemOf(res).errors?.[0]?.field).toBe('query.cursor');
    }
  });

  it('is forbidden to non-admins', async () => {
    const nurse = await createUser(t.app, 'nurse');
    const res = await api(t.app).as(nurse).get('/users');
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
  });
});

describe('GET /users/{id}', () => {
  it('gives an admin the full user', async () => {
    const nurse = await adminCreate('nurse', { full_name: 'Florence' });
    const res = await api(t.app).as(admin).get(`/users/${nurse.id}`);
    expect(res.statusCode).toBe(200);
    const body = userOf(res);
    expect(body).toEqual(nurse);
    expect(res.headers.etag).toBe(`"v${nurse.version}"`);
  });

  it('gives an admin 404 for an unknown id and 400 for a malformed one', async () => {
    const unknown = await api(t.app).as(admin).get(`/users/${randomUUID()}`);
    expect(unknown.statusCode).toBe(404);
    expect(problemOf(unknown).code).toBe('not_found');
    const malformed = await api(t.app).as(admin).get('/users/not-a-uuid');
    expect(malformed.statusCode).toBe(400);
  });

  it('gives other staff only {id, full_name, role} of an active doctor', async () => {
    const doctor = await adminCreate('doctor', { full_name: 'Dr. Quinn' });
    for (const role of ['doctor', 'nurse', 'receptionist'] as const) {
      const staff = await createUser(t.app, role);
      const res = await api(t.app).as(staff).get(`/users/${doctor.id}`);
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
    expect((await api(t.app).as(admin).delete(`/users/${inactiveDoctor.id}`)).statusCode).toBe(204);
    for (const role of ['doctor', 'nurse', 'receptionist'] as const) {
      const staff = await createUser(t.app, role);
      for (const id of [nurse.id, adminTarget.id, inactiveDoctor.id, randomUUID(), staff.id]) {
        const res = await api(t.app).as(staff).get(`/users/${id}`);
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
      const res = await api(t.app).as(u).get(`/users/${doctor.id}`);
      expect(res.statusCode, role).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
  });
});

describe('GET /doctors', () => {
  it('lists active doctors as {id, full_name} to staff, without deactivated ones', async () => {
    const active = await adminCreate('doctor', { full_name: 'Dr. Active' });
    const inactive = await adminCreate('doctor', { full_name: 'Dr. Inactive' });
    const nurse = await adminCreate('nurse', { full_name: 'Not A Doctor' });
    expect((await api(t.app).as(admin).delete(`/users/${inactive.id}`)).statusCode).toBe(204);

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
    const first = await api(t.app).as(admin).get('/doctors?limit=1');
    const body = first.json<PageBody<{ id: string }>>();
    expect(body.items).toHaveLength(1);
    expect(body.next_cursor).not.toBeNull();
    const second = await api(t.app)
      .as(admin)
      .get(`/doctors?limit=1&cursor=${body.next_cursor as string}`);
    const secondBody = second.json<PageBody<{ id: string }>>();
    expect(secondBody.items).toHaveLength(1);
    expect(secondBody.items[0]?.id).not.toBe(body.items[0]?.id);
    expect((await api(t.app).as(admin).get('/doctors?cursor=garbage')).statusCode).toBe(400);
  });

  it('is forbidden to user and guest, and needs a token', async () => {
    for (const role of ['user', 'guest'] as const) {
      const u = await createUser(t.app, role);
      const res = await api(t.app).as(u).get('/doctors');
      expect(res.statusCode, role).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
    const anon = await api(t.app).get('/doctors');
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['www-authenticate']).toBe('Bearer');
  });
});
