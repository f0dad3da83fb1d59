import { describe, expect, it } from 'vitest';
import { bearer, createUser, problemOf, unique } from '../../../test/helpers.js';
import {
  t,
  admin,
  doctor,
  otherDoctor,
  nurse,
  receptionist,
  useAuditApp,
  newPatient,
} from './audit.test-support.js';

/**
 * SECURITY.md "Audit and logs": every read, change, delete and export of patient data writes one
 * row (time, actor, role, action, resource, patient, outcome, request id, ip); the table is
 * append-only and hash-chained; a failed audit write fails the request with 503. Here: reading
 * them back through /admin/audit and /patients/{id}/access-log.
 */
useAuditApp();

describe('/admin/audit', () => {
  it('filters by actor, patient, action and outcome, newest first, with cursor pages', async () => {
    const reader = await createUser(t.app, 'nurse');
    const patient = await newPatient(doctor);
    for (let i = 0; i < 3; i++) {
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/patients/${patient.id}`,
        headers: bearer(reader.accessToken),
      });
    }
    const url = `/api/v1/admin/audit?actor_id=${reader.id}&patient_id=${patient.id}&action=patient.read&outcome=success&limit=2`;
    const first = await t.app.inject({ method: 'GET', url, headers: bearer(admin.accessToken) });
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{ items: { seq: number; actor_id: string }[]; next_cursor: string }>();
    expect(page1.items).toHaveLength(2);
    expect(page1.items[0]?.seq).toBeGreaterThan(page1.items[1]?.seq ?? Infinity);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const second = await t.app.inject({
      method: 'GET',
      url: `${url}&cursor=${page1.next_cursor}`,
      headers: bearer(admin.accessToken),
    });
    const page2 = second.json<{ items: { actor_id: string }[]; next_cursor: string | null }>();
    expect(page2.items).toHaveLength(1);
    expect(page2.next_cursor).toBeNull();
    expect([...page1.items, ...page2.items].every((i) => i.actor_id === reader.id)).toBe(true);
  });

  it('filters by time', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/admin/audit?from=${encodeURIComponent(future)}`,
      headers: bearer(admin.accessToken),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ items: unknown[] }>().items).toEqual([]);
  });

  it('refuses timestamps the format admits but no calendar holds (leap second, year 0) with 400', async () => {
    for (const value of ['2016-12-31T23:59:60Z', '0000-01-01T00:00:00Z']) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/admin/audit?from=${encodeURIComponent(value)}`,
        headers: bearer(admin.accessToken),
      });
      expect(res.statusCode, value).toBe(400);
      expect(problemOf(res).errors?.[0]?.field).toBe('query.from');
    }
  });

  it('is admin-only, refuses bad filters and bad cursors with 400', async () => {
    for (const user of [doctor, nurse, receptionist]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/admin/audit',
        headers: bearer(user.accessToken),
      });
      expect(res.statusCode).toBe(403);
    }
    for (const query of [
      'action=patient.steal',
      'outcome=maybe',
      'cursor=eyJzIjoieCJ9',
      'actor_id=1',
    ]) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/admin/audit?${query}`,
        headers: bearer(admin.accessToken),
      });
      expect(res.statusCode, query).toBe(400);
    }
  });
});

describe('/patients/{id}/access-log', () => {
  it("shows who read or changed the record to an admin and to the patient's doctor", async () => {
    const patient = await newPatient(admin, { assigned_doctor_id: doctor.id });
    await t.app.inject({
      method: 'GET',
      url: `/api/v1/patients/${patient.id}`,
      headers: bearer(nurse.accessToken),
    });
    for (const viewer of [admin, doctor]) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/patients/${patient.id}/access-log`,
        headers: bearer(viewer.accessToken),
      });
      expect(res.statusCode).toBe(200);
      const items = res.json<{
        items: { action: string; actor_id: string; actor_role: string }[];
      }>().items;
      expect(items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            action: 'patient.read',
            actor_id: nurse.id,
            actor_role: 'nurse',
          }),
          expect.objectContaining({ action: 'patient.create', actor_id: admin.id }),
        ]),
      );
    }
  });

  it('includes lists that returned the patient', async () => {
    const surname = unique('Seen');
    const patient = await newPatient(admin, { last_name: surname });
    await t.app.inject({
      method: 'GET',
      url: `/api/v1/patients?q=${surname}`,
      headers: bearer(receptionist.accessToken),
    });
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/patients/${patient.id}/access-log`,
      headers: bearer(admin.accessToken),
    });
    expect(res.json<{ items: { action: string; actor_id: string }[] }>().items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'patient.list', actor_id: receptionist.id }),
      ]),
    );
  });

  it('refuses other doctors (403), other roles (403) and unknown patients (404)', async () => {
    const patient = await newPatient(admin, { assigned_doctor_id: doctor.id });
    const url = `/api/v1/patients/${patient.id}/access-log`;
    for (const user of [otherDoctor, nurse, receptionist]) {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(user.accessToken) });
      expect(res.statusCode).toBe(403);
    }
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/patients/01900000-0000-7000-8000-000000000000/access-log',
      headers: bearer(admin.accessToken),
    });
    expect(missing.statusCode).toBe(404);
  });
});
