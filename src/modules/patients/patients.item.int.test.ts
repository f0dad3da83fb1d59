import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  problemOf,
  type Method,
  type PageBody,
  unique,
} from '../../../test/helpers.js';
import type { PatientDto } from './patients.schemas.js';
import {
  t,
  admin,
  doctor,
  nurse,
  receptionist,
  plainUser,
  guest,
  usePatientsApp,
  newPatient,
  newGroup,
  getPatient,
  listPage,
  stats,
  groupCount,
  exportCsv,
} from './patients.test-support.js';

usePatientsApp();

describe('GET /patients/{id}', () => {
  it('returns the patient with an ETag', async () => {
    const p = await newPatient();
    const res = await api(t.app).as(nurse).get(`/patients/${p.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"v1"');
    expect(res.json<PatientDto>()).toMatchObject({ id: p.id, mrn: p.mrn });
  });

  it('404 for an unknown id, 400 for a malformed one', async () => {
    const res = await api(t.app).as(admin).get(`/patients/${randomUUID()}`);
    expect(res.statusCode).toBe(404);
    expect(problemOf(res).code).toBe('not_found');
    const bad = await api(t.app).as(admin).get('/patients/not-a-uuid');
    expect(bad.statusCode).toBe(400);
  });
});

describe('PATCH /patients/{id}', () => {
  it('takes reminders_opt_out on create and update (default false), shows it on reads', async () => {
    const plain = await newPatient();
    expect(plain.reminders_opt_out).toBe(false);
    const out = await newPatient({ reminders_opt_out: true });
    expect((await getPatient(out.id)).reminders_opt_out).toBe(true);

    const back = await api(t.app)
      .as(receptionist)
      .patch(`/patients/${out.id}`, { reminders_opt_out: false });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json<PatientDto>()).toMatchObject({ reminders_opt_out: false, version: 2 });
    const again = await api(t.app)
      .as(receptionist)
      .patch(`/patients/${plain.id}`, { reminders_opt_out: true });
    expect(again.json<PatientDto>().reminders_opt_out).toBe(true);
    expect((await getPatient(plain.id)).reminders_opt_out).toBe(true);

    // A boolean only: no coercion of strings or null.
    for (const bad of ['true', null, 1]) {
      const res = await api(t.app)
        .as(receptionist)
        .patch(`/patients/${plain.id}`, { reminders_opt_out: bad });
      expect(res.statusCode).toBe(400);
      expect(problemOf(res).errors?.[0]?.field).toContain('reminders_opt_out');
    }
    expect((await getPatient(plain.id)).version).toBe(2);
  });

  it('honours If-Match: stale -> 412 (unchanged), current -> 200 with a new ETag', async () => {
    const p = await newPatient({ phone: '+1 555 0000' });
    const first = await api(t.app)
      .as(receptionist)
      .patch(`/patients/${p.id}`, { phone: '+1 555 0001' }, { headers: { 'if-match': '"v1"' } });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers.etag).toBe('"v2"');
    expect(first.json<PatientDto>()).toMatchObject({ phone: '+1 555 0001', version: 2 });
    expect(Date.parse(first.json<PatientDto>().updated_at)).toBeGreaterThanOrEqual(
      Date.parse(p.updated_at),
    );

    const stale = await api(t.app)
      .as(receptionist)
      .patch(`/patients/${p.id}`, { phone: '+1 555 0002' }, { headers: { 'if-match': '"v1"' } });
    expect(stale.statusCode).toBe(412);
    expect(problemOf(stale).code).toBe('precondition_failed');
    expect(await getPatient(p.id)).toMatchObject({ phone: '+1 555 0001', version: 2 });

    const weak = await api(t.app)
      .as(receptionist)
      .patch(`/patients/${p.id}`, { phone: '+1 555 0003' }, { headers: { 'if-match': 'W/"v2"' } });
    expect(weak.statusCode).toBe(412);

    const current = await api(t.app)
      .as(receptionist)
      .patch(
        `/patients/${p.id}`,
        { first_name: 'Renamed', gender: 'other' },
        { headers: { 'if-match': first.headers.etag as string } },
      );
    expect(current.statusCode, current.body).toBe(200);
    expect(current.headers.etag).toBe('"v3"');
    expect(current.json<PatientDto>()).toMatchObject({
      first_name: 'Renamed',
      gender: 'other',
      phone: '+1 555 0001',
      version: 3,
    });
  });

  it('validates like create: duplicate email 409, bad doctor 422, bad date 400, unknown 404', async () => {
    const email = `${unique('taken')}@example.test`;
    await newPatient({ email });
    const p = await newPatient();
    const dup = await api(t.app).as(admin).patch(`/patients/${p.id}`, {
      email: email.toUpperCase(),
    });
    expect(dup.statusCode).toBe(409);
    const doc = await api(t.app).as(admin).patch(`/patients/${p.id}`, {
      assigned_doctor_id: receptionist.id,
    });
    expect(doc.statusCode).toBe(422);
    const date = await api(t.app).as(admin).patch(`/patients/${p.id}`, {
      date_of_birth: '2023-02-30',
    });
    expect(date.statusCode).toBe(400);
    const extra = await api(t.app).as(admin).patch(`/patients/${p.id}`, { version: 9 });
    expect(extra.statusCode).toBe(400);
    expect((await getPatient(p.id)).version).toBe(1);

    const missing = await api(t.app).as(admin).patch(`/patients/${randomUUID()}`, {
      location: 'x',
    });
    expect(missing.statusCode).toBe(404);

    // Assigning a real doctor, then un-assigning.
    const assign = await api(t.app).as(admin).patch(`/patients/${p.id}`, {
      assigned_doctor_id: doctor.id,
    });
    expect(assign.json<PatientDto>().assigned_doctor_id).toBe(doctor.id);
    const unassign = await api(t.app).as(admin).patch(`/patients/${p.id}`, {
      assigned_doctor_id: null,
    });
    expect(unassign.json<PatientDto>().assigned_doctor_id).toBeNull();
  });
});

describe('DELETE /patients/{id}', () => {
  it('soft-deletes: 204, then 404 everywhere and absent from lists', async () => {
    const group = newGroup('del');
    const keep = await newPatient({ group });
    const gone = await newPatient({ group });
    expect(await groupCount(group)).toBe(2);

    const res = await api(t.app).as(receptionist).delete(`/patients/${gone.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    expect((await api(t.app).as(admin).get(`/patients/${gone.id}`)).statusCode).toBe(404);
    expect(
      (await api(t.app).as(admin).patch(`/patients/${gone.id}`, { location: 'x' })).statusCode,
    ).toBe(404);
    expect((await api(t.app).as(admin).delete(`/patients/${gone.id}`)).statusCode).toBe(404);
    expect((await api(t.app).as(admin).put(`/patients/${gone.id}/favorite`)).statusCode).toBe(404);
    expect((await api(t.app).as(admin).get(`/patients/${gone.id}/notes`)).statusCode).toBe(404);

    const list = await listPage(`group=${group}`);
    expect(list.items.map((p) => p.id)).toEqual([keep.id]);
    expect((await listPage(`q=${gone.mrn}`)).items).toEqual([]);
    expect(await groupCount(group)).toBe(1);

    const csv = await exportCsv(admin.accessToken);
    expect(csv.byId(gone.id)).toBeUndefined();
    expect(csv.byId(keep.id)).toBeDefined();
  });

  it('honours If-Match: stale -> 412 and the patient stays', async () => {
    const p = await newPatient();
    const stale = await api(t.app)
      .as(admin)
      .delete(`/patients/${p.id}`, {
        headers: {
          'if-match': '"v7"',
        },
      });
    expect(stale.statusCode).toBe(412);
    expect((await getPatient(p.id)).id).toBe(p.id);
    const ok = await api(t.app)
      .as(admin)
      .delete(`/patients/${p.id}`, {
        headers: {
          'if-match': '"v1"',
        },
      });
    expect(ok.statusCode).toBe(204);
  });

  it('404 for an unknown id', async () => {
    const res = await api(t.app).as(admin).delete(`/patients/${randomUUID()}`);
    expect(res.statusCode).toBe(404);
  });
});

describe('favourites', () => {
  it('PUT/DELETE are idempotent 204s, per user, and drive is_favorite and favorites_only', async () => {
    const group = newGroup('fav');
    const p = await newPatient({ group });
    const q = await newPatient({ group });
    const mine = await createUser(t.app, 'nurse');
    const theirs = await createUser(t.app, 'receptionist');

    for (let i = 0; i < 2; i++) {
      const res = await api(t.app).as(mine).put(`/patients/${p.id}/favorite`);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
    }
    expect((await getPatient(p.id, mine.accessToken)).is_favorite).toBe(true);
    expect((await getPatient(q.id, mine.accessToken)).is_favorite).toBe(false);
    expect((await getPatient(p.id, theirs.accessToken)).is_favorite).toBe(false);

    const listed = await listPage(`group=${group}`, mine.accessToken);
    expect(Object.fromEntries(listed.items.map((i) => [i.id, i.is_favorite]))).toEqual({
      [p.id]: true,
      [q.id]: false,
    });

    const favs = await listPage(`favorites_only=true`, mine.accessToken);
    expect(favs.items.map((i) => i.id)).toEqual([p.id]);
    expect((await listPage(`favorites_only=true`, theirs.accessToken)).items).toEqual([]);
    expect(
      (await listPage(`favorites_only=false&group=${group}`, mine.accessToken)).items,
    ).toHaveLength(2);

    const patched = await api(t.app).as(mine).patch(`/patients/${p.id}`, { location: 'A' });
    expect(patched.json<PatientDto>().is_favorite).toBe(true);

    for (let i = 0; i < 2; i++) {
      const res = await api(t.app).as(mine).delete(`/patients/${p.id}/favorite`);
      expect(res.statusCode).toBe(204);
    }
    expect((await getPatient(p.id, mine.accessToken)).is_favorite).toBe(false);
    expect((await listPage(`favorites_only=true`, mine.accessToken)).items).toEqual([]);
  });

  it('404 for an unknown patient', async () => {
    for (const method of ['PUT', 'DELETE'] as const) {
      const res = await api(t.app).as(admin).request(method, `/patients/${randomUUID()}/favorite`);
      expect(res.statusCode, method).toBe(404);
    }
  });

  it('a deleted favourite drops out of the favourites list', async () => {
    const me = await createUser(t.app, 'doctor');
    const p = await newPatient();
    await api(t.app).as(me).put(`/patients/${p.id}/favorite`);
    expect((await listPage('favorites_only=true', me.accessToken)).items).toHaveLength(1);
    await api(t.app).as(admin).delete(`/patients/${p.id}`);
    expect((await listPage('favorites_only=true', me.accessToken)).items).toEqual([]);
    expect((await stats(me.accessToken)).favorite_patients).toBe(0);
  });
});

describe('access to patient routes', () => {
  async function every(id: string): Promise<[Method, string, object?][]> {
    return [
      ['GET', '/patients'],
      ['POST', '/patients', { first_name: 'X', last_name: unique('Y') }],
      ['GET', '/patients/groups'],
      ['GET', '/patients/stats'],
      ['GET', '/patients/export.csv'],
      ['GET', `/patients/${id}`],
      ['PATCH', `/patients/${id}`, { location: 'nope' }],
      ['DELETE', `/patients/${id}`],
      ['PUT', `/patients/${id}/favorite`],
      ['DELETE', `/patients/${id}/favorite`],
      ['GET', `/patients/${id}/notes`],
      ['POST', `/patients/${id}/notes`, { content: 'x', visit_type: 'regular' }],
    ];
  }

  it('user and guest get 403 on every patients route, and nothing changes', async () => {
    const p = await newPatient();
    for (const who of [plainUser, guest]) {
      for (const [method, url, payload] of await every(p.id)) {
        const res = await api(t.app).as(who).request(method, url, payload);
        expect(res.statusCode, `${who.role} ${method} ${url}`).toBe(403);
        expect(problemOf(res).code).toBe('forbidden');
        expect(res.body).not.toContain(p.mrn);
      }
    }
    expect(await getPatient(p.id)).toMatchObject({ version: 1, location: null });
  });

  it('without a token every patients route is 401 with WWW-Authenticate', async () => {
    const p = await newPatient();
    for (const [method, url, payload] of await every(p.id)) {
      const res = await api(t.app).request(method, url, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('answers with or without a trailing slash', async () => {
    const p = await newPatient();
    const res = await api(t.app).as(receptionist).get(`/patients/${p.id}/`);
    expect(res.statusCode).toBe(200);
    expect(res.json<PatientDto>().id).toBe(p.id);
    const list = await api(t.app).as(receptionist).get(`/patients/?q=${p.mrn}`);
    expect(list.statusCode).toBe(200);
    // An exact MRN ranks first (longer MRNs containing it may follow).
    expect(list.json<PageBody<PatientDto>>().items[0]?.id).toBe(p.id);
  });
});
