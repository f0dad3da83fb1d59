import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { bearer, createUser, problemOf, unique } from '../../../test/helpers.js';
import { auditLog } from '../../db/schema/audit.js';
import { patients } from '../../db/schema/patients.js';
import {
  t,
  admin,
  doctor,
  nurse,
  receptionist,
  useAuditApp,
  newPatient,
  rowsFor,
  only,
  sealAll,
} from './audit.test-support.js';
import { onWorkingDay } from '../../../test/working-hours.js';

/**
 * SECURITY.md "Audit and logs": every read, change, delete and export of patient data writes one
 * row (time, actor, role, action, resource, patient, outcome, request id, ip); the table is
 * append-only and hash-chained; a failed audit write fails the request with 503. Reading the
 * rows back through /admin/audit and /patients/{id}/access-log: audit.queries.int.test.ts.
 */
useAuditApp();

describe('audit rows for patient data', () => {
  it('a read records time, actor, role, action, resource, patient, outcome, request id and ip', async () => {
    const patient = await newPatient(doctor);
    const before = Date.now();
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/patients/${patient.id}`,
      headers: { ...bearer(nurse.accessToken), 'x-request-id': 'trace-audit-read-0001' },
    });
    expect(res.statusCode).toBe(200);
    // Written at once; linked into the hash chain by the sealer, here without waiting for it.
    await sealAll(t.app.ctx.db);
    const row = only(await rowsFor({ patientId: patient.id, action: 'patient.read' }));
    expect(row).toMatchObject({
      actorId: nurse.id,
      actorRole: 'nurse',
      action: 'patient.read',
      resourceType: 'patient',
      resourceId: patient.id,
      patientId: patient.id,
      outcome: 'success',
      requestId: 'trace-audit-read-0001',
      ip: '127.0.0.1',
    });
    expect(row.at.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('create, update and delete each write one row in the same transaction as the change', async () => {
    const patient = await newPatient(doctor);
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/patients/${patient.id}`,
      headers: { ...bearer(doctor.accessToken), 'if-match': `"v${patient.version}"` },
      payload: { phone: '+48 600 100 200', medical_history: 'asthma' },
    });
    expect(patch.statusCode).toBe(200);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/patients/${patient.id}`,
      headers: bearer(admin.accessToken),
    });
    expect(del.statusCode).toBe(204);
    const actions = (await rowsFor({ patientId: patient.id })).map((r) => [r.action, r.actorId]);
    expect(actions).toEqual([
      ['patient.create', doctor.id],
      ['patient.update', doctor.id],
      ['patient.delete', admin.id],
    ]);
    const update = only(await rowsFor({ patientId: patient.id, action: 'patient.update' }));
    // Which fields changed, never their values.
    expect(update.details).toEqual({ fields: 'medical_history,phone' });
    expect(JSON.stringify(update)).not.toContain('asthma');
  });

  it('a refused change (412) writes no change row', async () => {
    const patient = await newPatient(doctor);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/patients/${patient.id}`,
      headers: { ...bearer(doctor.accessToken), 'if-match': '"999"' },
      payload: { phone: '+48 600 100 201' },
    });
    expect(res.statusCode).toBe(412);
    expect(await rowsFor({ patientId: patient.id, action: 'patient.update' })).toHaveLength(0);
  });

  it('a list records which patients it returned; an export records the export', async () => {
    const surname = unique('Listed');
    const a = await newPatient(doctor, { last_name: surname });
    const b = await newPatient(doctor, { last_name: surname, first_name: 'Bob' });
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/patients?q=${surname}`,
      headers: bearer(receptionist.accessToken),
    });
    expect(list.statusCode).toBe(200);
    const listed = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.actorId, receptionist.id),
          eq(auditLog.action, 'patient.list'),
          sql`${auditLog.patientIds} @> array[${a.id}, ${b.id}]::uuid[]`,
        ),
      );
    expect(only(listed).details).toEqual({ count: 2, search: true });

    const csv = await t.app.inject({
      method: 'GET',
      url: '/api/v1/patients/export.csv',
      headers: bearer(nurse.accessToken),
    });
    expect(csv.statusCode).toBe(200);
    const exported = only(await rowsFor({ actorId: nurse.id, action: 'patient.export' }));
    expect(exported.details).toEqual({ format: 'csv', medical_fields: true });
  });

  it('visit notes, appointments and prescriptions are audited as patient data', async () => {
    const patient = await newPatient(doctor);
    const headers = bearer(doctor.accessToken);
    const note = await t.app.inject({
      method: 'POST',
      url: `/api/v1/patients/${patient.id}/notes`,
      headers,
      payload: { content: 'Seen today', visit_type: 'regular' },
    });
    expect(note.statusCode).toBe(201);
    await t.app.inject({ method: 'GET', url: `/api/v1/patients/${patient.id}/notes`, headers });
    const startsAt = onWorkingDay(2, 10);
    const booked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers,
      payload: { patient_id: patient.id, doctor_id: doctor.id, starts_at: startsAt },
    });
    expect(booked.statusCode).toBe(201);
    const appointmentId = booked.json<{ id: string }>().id;
    await t.app.inject({ method: 'GET', url: `/api/v1/appointments/${appointmentId}`, headers });
    await t.app.inject({
      method: 'GET',
      url: `/api/v1/appointments/${appointmentId}.ics`,
      headers,
    });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/appointments/${appointmentId}/confirm`,
      headers,
    });
    const rx = await t.app.inject({
      method: 'POST',
      url: '/api/v1/prescriptions',
      headers,
      payload: {
        patient_id: patient.id,
        medication: 'Amoxicillin',
        dosage: '500 mg',
        frequency: 'every 8 hours',
      },
    });
    expect(rx.statusCode).toBe(201);
    const rxId = rx.json<{ id: string }>().id;
    await t.app.inject({ method: 'GET', url: `/api/v1/prescriptions/${rxId}`, headers });
    await t.app.inject({ method: 'GET', url: `/api/v1/prescriptions/${rxId}/pdf`, headers });
    await t.app.inject({ method: 'POST', url: `/api/v1/prescriptions/${rxId}/complete`, headers });

    const actions = (await rowsFor({ patientId: patient.id })).map((r) => r.action);
    expect(actions).toEqual([
      'patient.create',
      'visit_note.create',
      'visit_note.list',
      'appointment.create',
      'appointment.read',
      'appointment.export',
      'appointment.transition',
      'prescription.create',
      'prescription.read',
      'prescription.export',
      'prescription.transition',
    ]);
  });

  it('a duplicate-person 409 that names an existing patient is audited as a read', async () => {
    const surname = unique('Twin');
    const first = await newPatient(doctor, { last_name: surname, date_of_birth: '1970-05-05' });
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/patients',
      headers: bearer(receptionist.accessToken),
      payload: { first_name: 'Ada', last_name: surname, date_of_birth: '1970-05-05' },
    });
    expect(again.statusCode).toBe(409);
    const read = only(
      await rowsFor({ patientId: first.id, actorId: receptionist.id, action: 'patient.read' }),
    );
    expect(read.details).toEqual({ via: 'duplicate_check' });
  });

  it('marking and unmarking a favourite is audited', async () => {
    const patient = await newPatient(doctor);
    for (const method of ['PUT', 'DELETE'] as const) {
      const res = await t.app.inject({
        method,
        url: `/api/v1/patients/${patient.id}/favorite`,
        headers: bearer(nurse.accessToken),
      });
      expect(res.statusCode).toBe(204);
    }
    const rows = await rowsFor({ patientId: patient.id, action: 'patient.favorite' });
    expect(rows.map((r) => [r.actorId, r.details])).toEqual([
      [nurse.id, { favorite: true }],
      [nurse.id, { favorite: false }],
    ]);
  });

  it('a refused permission is recorded as access.denied', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/prescriptions',
      headers: bearer(receptionist.accessToken),
    });
    expect(res.statusCode).toBe(403);
    const denied = await rowsFor({ actorId: receptionist.id, action: 'access.denied' });
    expect(denied.at(-1)).toMatchObject({
      outcome: 'denied',
      resourceId: 'GET /api/v1/prescriptions',
      details: { permission: 'prescriptions.read' },
    });
  });
});

describe('audit rows for account changes', () => {
  it('PATCH /users/me records the changed fields, and a refused email change its failure', async () => {
    const user = await createUser(t.app, 'receptionist');
    const ok = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers: bearer(user.accessToken),
      payload: { full_name: 'Renamed Person' },
    });
    expect(ok.statusCode).toBe(200);
    const refused = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/me',
      headers: bearer(user.accessToken),
      payload: { email: `${unique('moved')}@example.test`, current_password: 'not my password' },
    });
    expect(refused.statusCode).toBe(400);
    const rows = await rowsFor({ actorId: user.id, action: 'user.update' });
    expect(rows.map((r) => [r.outcome, r.resourceId, r.details])).toEqual([
      ['success', user.id, { fields: 'full_name', self: true }],
      ['failure', user.id, { fields: 'email', reason: 'bad_password' }],
    ]);
  });
});

describe('no unaudited access: a failed audit write fails the request (503)', () => {
  // A trigger that refuses audit rows of one actor only, so other tests are unaffected.
  async function breakAuditFor(userId: string) {
    const fn = `fail_audit_${userId.replace(/-/g, '')}`;
    await t.app.ctx.db.execute(
      sql.raw(`create function ${fn}() returns trigger language plpgsql as $$
        begin
          if new.actor_id = '${userId}' then raise exception 'audit storage failure'; end if;
          return new;
        end $$`),
    );
    await t.app.ctx.db.execute(
      sql.raw(
        `create trigger ${fn} before insert on audit_log for each row execute function ${fn}()`,
      ),
    );
  }

  it('a read answers 503 with Retry-After and no patient data', async () => {
    const victim = await createUser(t.app, 'doctor');
    const patient = await newPatient(doctor, { phone: '+48 600 999 111' });
    await breakAuditFor(victim.id);
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/patients/${patient.id}`,
      headers: bearer(victim.accessToken),
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(problemOf(res).code).toBe('audit_unavailable');
    expect(res.body).not.toContain('600 999 111');
  });

  it('a create answers 503 and leaves nothing behind', async () => {
    const victim = await createUser(t.app, 'doctor');
    await breakAuditFor(victim.id);
    const surname = unique('Unaudited');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/patients',
      headers: bearer(victim.accessToken),
      payload: { first_name: 'Nora', last_name: surname },
    });
    expect(res.statusCode).toBe(503);
    expect(problemOf(res).code).toBe('audit_unavailable');
    const stored = await t.app.ctx.db.select().from(patients).where(eq(patients.lastName, surname));
    expect(stored).toHaveLength(0);
  });
});
