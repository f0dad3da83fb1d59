import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, problemOf, unique } from '../../../test/helpers.js';
import type { PatientDto } from './patients.schemas.js';
import {
  t,
  admin,
  doctor,
  nurse,
  receptionist,
  usePatientsApp,
  newPatient,
  newGroup,
  getPatient,
  listPage,
  groupCount,
  expectNoMedicalKeys,
} from './patients.test-support.js';

usePatientsApp();

describe('POST /patients', () => {
  it('registers a patient: 201, generated MRN, Location, ETag, fields round-trip', async () => {
    const email = `${unique('pt')}@example.test`;
    const contacts = [
      { name: 'Jan Kowalski', relationship: 'spouse', phone: '+48 600 100 200' },
      { name: 'Ewa Nowak', relationship: 'daughter', phone: '(22) 555-01-02' },
    ];
    const res = await api(t.app).as(admin).post('/patients', {
      first_name: 'Maria',
      last_name: 'Skłodowska',
      date_of_birth: '1967-11-07',
      gender: 'female',
      email,
      phone: '+48 22 123 45 67',
      address: 'ul. Freta 16, Warszawa',
      location: 'Ward B',
      group: 'cardiology',
      emergency_contacts: contacts,
      initial_complaint: 'chest pain',
      initial_diagnosis: 'angina?',
      medical_history: 'hypertension since 2010',
      notes: 'prefers mornings',
      assigned_doctor_id: doctor.id,
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<PatientDto>();
    expect(body).toMatchObject({
      first_name: 'Maria',
      last_name: 'Skłodowska',
      date_of_birth: '1967-11-07',
      gender: 'female',
      email,
      phone: '+48 22 123 45 67',
      address: 'ul. Freta 16, Warszawa',
      location: 'Ward B',
      group: 'cardiology',
      emergency_contacts: contacts,
      initial_complaint: 'chest pain',
      initial_diagnosis: 'angina?',
      medical_history: 'hypertension since 2010',
      allergies: [],
      notes: 'prefers mornings',
      assigned_doctor_id: doctor.id,
      reminders_opt_out: false,
      is_favorite: false,
      version: 1,
    });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.mrn).toMatch(/^MRN\d{8}$/);
    expect(Date.parse(body.created_at)).not.toBeNaN();
    expect(res.headers.location).toBe(`/api/v1/patients/${body.id}`);
    expect(res.headers.etag).toBe(`"v${body.version}"`);

    // The stored record reads back the same, emergency contacts included.
    const again = await api(t.app).as(admin).get(`/patients/${body.id}`);
    expect(again.statusCode).toBe(200);
    expect(again.json<PatientDto>()).toEqual(body);
    expect(again.headers.etag).toBe(res.headers.etag);
  });

  it('defaults: group general, no contacts, nullable fields null', async () => {
    const p = await newPatient({ first_name: 'Min', last_name: unique('Imal') });
    expect(p).toMatchObject({
      group: 'general',
      emergency_contacts: [],
      date_of_birth: null,
      email: null,
      assigned_doctor_id: null,
      allergies: [],
      medical_history: null,
      notes: null,
    });
  });

  it('generates a distinct MRN for every patient', async () => {
    const created = await Promise.all([newPatient(), newPatient(), newPatient(), newPatient()]);
    const mrns = created.map((p) => p.mrn);
    expect(new Set(mrns).size).toBe(4);
    for (const mrn of mrns) expect(mrn).toMatch(/^MRN\d{8}$/);
  });

  it('normalizes allergies: trimmed, lower-case, duplicates removed', async () => {
    const p = await newPatient(
      { allergies: [' Penicillin ', 'penicillin', 'LATEX', 'Latex', 'peanuts'] },
      doctor.accessToken,
    );
    expect(p.allergies).toEqual(['penicillin', 'latex', 'peanuts']);
    expect((await getPatient(p.id)).allergies).toEqual(['penicillin', 'latex', 'peanuts']);
  });

  it('refuses a duplicate email, whatever its case, with 409', async () => {
    const email = `${unique('dup')}@example.test`;
    await newPatient({ email });
    const res = await api(t.app)
      .as(admin)
      .post('/patients', {
        first_name: 'Other',
        last_name: unique('Person'),
        email: email.toUpperCase(),
      });
    expect(res.statusCode, res.body).toBe(409);
    const problem = problemOf(res);
    expect(problem.code).toBe('conflict');
    expect(problem.errors?.[0]?.field).toBe('body.email');
  });

  it('frees the email of a deleted patient', async () => {
    const email = `${unique('freed')}@example.test`;
    const gone = await newPatient({ email });
    expect((await api(t.app).as(admin).delete(`/patients/${gone.id}`)).statusCode).toBe(204);
    const again = await newPatient({ email });
    expect(again.email).toBe(email);
    expect(again.id).not.toBe(gone.id);
  });

  it('refuses a likely duplicate person with 409 unless ?allow_duplicate=true', async () => {
    const last = unique('Twin');
    const first = await newPatient({
      first_name: 'Zofia',
      last_name: last,
      date_of_birth: '1980-05-17',
    });
    const dup = await api(t.app).as(receptionist).post('/patients', {
      first_name: 'ZOFIA',
      last_name: last.toLowerCase(),
      date_of_birth: '1980-05-17',
    });
    expect(dup.statusCode, dup.body).toBe(409);
    const problem = problemOf(dup);
    expect(problem.code).toBe('conflict');
    expect(problem.detail).toContain(first.id);
    // The existing record, for a client that offers to open it instead.
    expect((problem as unknown as Record<string, unknown>).duplicate_patient_id).toBe(first.id);

    // Same name, another birth date: a different person.
    await newPatient({ first_name: 'Zofia', last_name: last, date_of_birth: '1981-05-17' });

    const allowed = await api(t.app).as(receptionist).post('/patients?allow_duplicate=true', {
      first_name: 'Zofia',
      last_name: last,
      date_of_birth: '1980-05-17',
    });
    expect(allowed.statusCode, allowed.body).toBe(201);
    expect(allowed.json<PatientDto>().id).not.toBe(first.id);
    expect(allowed.json<PatientDto>().mrn).not.toBe(first.mrn);
  });

  it('refuses impossible and future birth dates with 400', async () => {
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    for (const date_of_birth of ['2023-02-30', '2021-13-01', '1990-1-1', tomorrow, '2999-01-01']) {
      const res = await api(t.app)
        .as(admin)
        .post('/patients', {
          first_name: 'Bad',
          last_name: unique('Date'),
          date_of_birth,
        });
      expect(res.statusCode, date_of_birth).toBe(400);
      const problem = problemOf(res);
      expect(problem.code).toBe('validation_failed');
      expect(
        problem.errors?.some((e) => e.field.includes('date_of_birth')),
        date_of_birth,
      ).toBe(true);
    }
    // A leap day is a real date.
    expect((await newPatient({ date_of_birth: '2020-02-29' })).date_of_birth).toBe('2020-02-29');
  });

  it('refuses an assigned_doctor_id that is not an active doctor with 422', async () => {
    for (const assigned_doctor_id of [nurse.id, admin.id, randomUUID()]) {
      const res = await api(t.app)
        .as(admin)
        .post('/patients', {
          first_name: 'No',
          last_name: unique('Doc'),
          assigned_doctor_id,
        });
      expect(res.statusCode, res.body).toBe(422);
      const problem = problemOf(res);
      expect(problem.code).toBe('unprocessable');
      expect(problem.errors?.[0]?.field).toBe('body.assigned_doctor_id');
    }
  });

  it('rejects unknown properties and missing names with 400', async () => {
    const unknown = await api(t.app).as(admin).post('/patients', {
      first_name: 'A',
      last_name: 'B',
      mrn: 'MRN00000001',
    });
    expect(unknown.statusCode).toBe(400);
    expect(problemOf(unknown).errors?.[0]?.field).toBe('body.mrn');

    const missing = await api(t.app).as(admin).post('/patients', { first_name: 'A' });
    expect(missing.statusCode).toBe(400);
    expect(problemOf(missing).code).toBe('validation_failed');

    const badContact = await api(t.app)
      .as(admin)
      .post('/patients', {
        first_name: 'A',
        last_name: 'B',
        emergency_contacts: [{ name: 'X', relationship: 'y', phone: '12345', extra: 1 }],
      });
    expect(badContact.statusCode).toBe(400);
  });
});

describe('medical fields (field-level access)', () => {
  it('are absent (not null) for a receptionist on GET, list and create', async () => {
    const group = newGroup('rx');
    const secret = unique('history');
    const p = await newPatient(
      { group, medical_history: secret, allergies: ['latex'], notes: 'private' },
      doctor.accessToken,
    );

    const one = await api(t.app).as(receptionist).get(`/patients/${p.id}`);
    expect(one.statusCode).toBe(200);
    expectNoMedicalKeys(one.json<PatientDto>());
    expect(one.json<PatientDto>()).toMatchObject({ id: p.id, mrn: p.mrn, group });
    expect(one.body).not.toContain(secret);
    expect(one.body).not.toContain('latex');

    const list = await listPage(`group=${group}`, receptionist.accessToken);
    expect(list.items.map((i) => i.id)).toEqual([p.id]);
    expectNoMedicalKeys(list.items[0] ?? {});
    expect(JSON.stringify(list)).not.toContain(secret);

    const created = await newPatient({ group }, receptionist.accessToken);
    expectNoMedicalKeys(created);

    const patched = await api(t.app).as(receptionist).patch(`/patients/${p.id}`, {
      location: 'Front desk',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expectNoMedicalKeys(patched.json<PatientDto>());
    // The receptionist's edit left the medical fields untouched.
    expect(await getPatient(p.id, doctor.accessToken)).toMatchObject({
      location: 'Front desk',
      medical_history: secret,
      allergies: ['latex'],
      notes: 'private',
    });
  });

  it('a receptionist writing any of them gets 403 (create and update), nothing changes', async () => {
    const group = newGroup('rxw');
    for (const [field, value] of [
      ['allergies', ['penicillin']],
      ['allergies', []],
      ['medical_history', 'x'],
      ['notes', null],
    ] as const) {
      const res = await api(t.app)
        .as(receptionist)
        .post('/patients', {
          first_name: 'Rx',
          last_name: unique('Write'),
          group,
          [field]: value,
        });
      expect(res.statusCode, `${field} ${res.body}`).toBe(403);
      const problem = problemOf(res);
      expect(problem.code).toBe('forbidden');
      expect(problem.errors?.[0]?.field).toBe(`body.${field}`);
    }
    expect(await groupCount(group)).toBeUndefined();

    const p = await newPatient({ medical_history: 'kept' }, doctor.accessToken);
    const res = await api(t.app).as(receptionist).patch(`/patients/${p.id}`, {
      phone: '+1 555 0100',
      notes: 'sneaky',
    });
    expect(res.statusCode).toBe(403);
    // Refused as a whole: the permitted field in the same request was not applied either.
    const after = await getPatient(p.id);
    expect(after).toMatchObject({ phone: null, notes: null, medical_history: 'kept', version: 1 });
  });

  it('a nurse sees them but may not write them (403 on POST and PATCH)', async () => {
    const p = await newPatient(
      { medical_history: 'asthma', allergies: ['Aspirin'], notes: 'n1' },
      doctor.accessToken,
    );
    expect(await getPatient(p.id, nurse.accessToken)).toMatchObject({
      medical_history: 'asthma',
      allergies: ['aspirin'],
      notes: 'n1',
    });
    const listed = await listPage(`q=${p.last_name}`, nurse.accessToken);
    expect(listed.items[0]).toMatchObject({ id: p.id, allergies: ['aspirin'] });

    for (const patch of [
      { medical_history: 'none' },
      { allergies: ['latex'] },
      { notes: 'changed' },
      { notes: null },
    ]) {
      const res = await api(t.app).as(nurse).patch(`/patients/${p.id}`, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
    const create = await api(t.app)
      .as(nurse)
      .post('/patients', {
        first_name: 'N',
        last_name: unique('Nurse'),
        allergies: ['latex'],
      });
    expect(create.statusCode).toBe(403);

    expect(await getPatient(p.id)).toMatchObject({
      medical_history: 'asthma',
      allergies: ['aspirin'],
      notes: 'n1',
      version: 1,
    });
    // Demographics are fine for a nurse.
    const ok = await api(t.app).as(nurse).patch(`/patients/${p.id}`, { location: 'ICU' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<PatientDto>()).toMatchObject({ location: 'ICU', medical_history: 'asthma' });
  });

  it('doctors and admins may write them', async () => {
    for (const writer of [doctor, admin]) {
      const p = await newPatient(
        { medical_history: 'h1', allergies: ['Iodine'], notes: 'a' },
        writer.accessToken,
      );
      expect(p).toMatchObject({ medical_history: 'h1', allergies: ['iodine'], notes: 'a' });
      const res = await api(t.app)
        .as(writer)
        .patch(`/patients/${p.id}`, {
          medical_history: 'h2',
          allergies: ['Sulfa', 'SULFA'],
          notes: null,
        });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<PatientDto>()).toMatchObject({
        medical_history: 'h2',
        allergies: ['sulfa'],
        notes: null,
        version: 2,
      });
    }
  });
});
