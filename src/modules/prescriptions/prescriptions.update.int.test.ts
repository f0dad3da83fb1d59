import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api } from '../../../test/helpers.js';
import type { PrescriptionDto } from './prescriptions.schemas.js';
import {
  t,
  admin,
  doctor,
  otherDoctor,
  nurse,
  receptionist,
  usePrescriptionsApp,
  expectProblem,
  newPatient,
  prescribe,
  fetchRx,
} from './prescriptions.test-support.js';

usePrescriptionsApp();

describe('PATCH /prescriptions/{id}', () => {
  it('the prescriber edits: 200, version and ETag move on', async () => {
    const created = await prescribe(await newPatient());
    const res = await api(t.app).as(doctor).patch(`/prescriptions/${created.id}`, {
      dosage: '2 tablets',
      refills: 5,
      instructions: 'With water.',
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PrescriptionDto>();
    expect(body).toMatchObject({
      dosage: '2 tablets',
      refills: 5,
      instructions: 'With water.',
      medication: created.medication,
      prescriber_id: doctor.id,
      status: 'active',
      version: 2,
    });
    expect(res.headers.etag).toBe('"v2"');
    expect(await fetchRx(created.id)).toEqual(body);
  });

  it('changing the medication recomputes the allergy warnings', async () => {
    const patientId = await newPatient(['penicillin']);
    const created = await prescribe(patientId, { medication: 'Metformin 850 mg' });
    expect(created.warnings).toEqual([]);

    const toAmoxicillin = await api(t.app).as(doctor).patch(`/prescriptions/${created.id}`, {
      medication: 'Amoxicillin 500 mg',
    });
    expect(toAmoxicillin.statusCode, toAmoxicillin.body).toBe(200);
    const warned = toAmoxicillin.json<PrescriptionDto>();
    expect(warned.warnings.map((w) => [w.code, w.allergen])).toEqual([
      ['allergy_match', 'penicillin'],
    ]);
    expect((await fetchRx(created.id)).warnings).toEqual(warned.warnings);

    // Other edits keep the warnings as they are.
    const dosage = await api(t.app).as(doctor).patch(`/prescriptions/${created.id}`, {
      dosage: '1 capsule',
    });
    expect(dosage.json<PrescriptionDto>().warnings).toEqual(warned.warnings);

    const back = await api(t.app).as(doctor).patch(`/prescriptions/${created.id}`, {
      medication: 'Atorvastatin 20 mg',
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json<PrescriptionDto>().warnings).toEqual([]);
    expect((await fetchRx(created.id)).warnings).toEqual([]);
  });

  it('another doctor -> 403, a nurse -> 403; the record is unchanged', async () => {
    const created = await prescribe(await newPatient());
    expectProblem(
      await api(t.app).as(otherDoctor).patch(`/prescriptions/${created.id}`, { refills: 9 }),
      403,
      'forbidden',
    );
    expectProblem(
      await api(t.app).as(nurse).patch(`/prescriptions/${created.id}`, { refills: 9 }),
      403,
      'forbidden',
    );
    expectProblem(
      await api(t.app).as(receptionist).patch(`/prescriptions/${created.id}`, { refills: 9 }),
      403,
      'forbidden',
    );
    expect(await fetchRx(created.id)).toEqual(created);
  });

  it('an admin edits: 200, the prescriber stays', async () => {
    const created = await prescribe(await newPatient());
    const res = await api(t.app).as(admin).patch(`/prescriptions/${created.id}`, {
      frequency: 'once daily',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<PrescriptionDto>()).toMatchObject({
      frequency: 'once daily',
      prescriber_id: doctor.id,
      version: 2,
    });
  });

  it('If-Match: the current ETag -> 200, a stale one -> 412 and nothing changes', async () => {
    const created = await prescribe(await newPatient());
    const ok = await api(t.app)
      .as(doctor)
      .patch(`/prescriptions/${created.id}`, { refills: 3 }, { headers: { 'if-match': '"v1"' } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers.etag).toBe('"v2"');

    const stale = await api(t.app)
      .as(doctor)
      .patch(`/prescriptions/${created.id}`, { refills: 7 }, { headers: { 'if-match': '"v1"' } });
    expectProblem(stale, 412, 'precondition_failed');
    const current = await fetchRx(created.id);
    expect(current.refills).toBe(3);
    expect(current.version).toBe(2);
  });

  it('invalid values and read-only fields -> 400', async () => {
    const created = await prescribe(await newPatient());
    for (const body of [
      { refills: 13 },
      { refills: -1 },
      { medication: '' },
      { status: 'completed' },
      { prescriber_id: otherDoctor.id },
    ]) {
      const res = await api(t.app).as(doctor).patch(`/prescriptions/${created.id}`, body);
      expectProblem(res, 400, 'validation_failed');
    }
    expect(await fetchRx(created.id)).toEqual(created);
  });

  it('an unknown id -> 404', async () => {
    expectProblem(
      await api(t.app).as(doctor).patch(`/prescriptions/${randomUUID()}`, { refills: 1 }),
      404,
      'not_found',
    );
  });
});

describe('cancel and complete', () => {
  it('cancel without a body: 200 cancelled, no reason', async () => {
    const created = await prescribe(await newPatient());
    const res = await api(t.app).as(doctor).post(`/prescriptions/${created.id}/cancel`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<PrescriptionDto>()).toMatchObject({
      id: created.id,
      status: 'cancelled',
      cancel_reason: null,
      version: 2,
    });
    expect((await fetchRx(created.id)).status).toBe('cancelled');
  });

  it('cancel with an empty body or a reason: 200, the reason is kept', async () => {
    const first = await prescribe(await newPatient());
    const empty = await api(t.app).as(doctor).post(`/prescriptions/${first.id}/cancel`, {});
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.json<PrescriptionDto>().cancel_reason).toBeNull();

    const second = await prescribe(await newPatient());
    const withReason = await api(t.app).as(doctor).post(`/prescriptions/${second.id}/cancel`, {
      reason: 'Patient reported nausea',
    });
    expect(withReason.statusCode, withReason.body).toBe(200);
    expect(withReason.json<PrescriptionDto>()).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'Patient reported nausea',
    });
    expect((await fetchRx(second.id)).cancel_reason).toBe('Patient reported nausea');
  });

  it('cancel with an invalid body -> 400, still active', async () => {
    const created = await prescribe(await newPatient());
    for (const body of [{ reason: '' }, { why: 'x' }]) {
      const res = await api(t.app).as(doctor).post(`/prescriptions/${created.id}/cancel`, body);
      expectProblem(res, 400, 'validation_failed');
    }
    expect((await fetchRx(created.id)).status).toBe('active');
  });

  it('complete by the prescriber: 200 completed', async () => {
    const created = await prescribe(await newPatient());
    const res = await api(t.app).as(doctor).post(`/prescriptions/${created.id}/complete`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<PrescriptionDto>()).toMatchObject({ status: 'completed', version: 2 });
  });

  it.each(['cancel', 'complete'] as const)(
    'after %s, a second cancel, complete or PATCH -> 409 and the status stays',
    async (first) => {
      const created = await prescribe(await newPatient());
      const done = await api(t.app).as(doctor).post(`/prescriptions/${created.id}/${first}`);
      expect(done.statusCode, done.body).toBe(200);
      const ended = done.json<PrescriptionDto>();

      expectProblem(
        await api(t.app).as(doctor).post(`/prescriptions/${created.id}/cancel`),
        409,
        'conflict',
      );
      expectProblem(
        await api(t.app).as(doctor).post(`/prescriptions/${created.id}/complete`),
        409,
        'conflict',
      );
      expectProblem(
        await api(t.app).as(doctor).patch(`/prescriptions/${created.id}`, { refills: 1 }),
        409,
        'conflict',
      );
      // An admin is refused the same way.
      expectProblem(
        await api(t.app).as(admin).post(`/prescriptions/${created.id}/cancel`),
        409,
        'conflict',
      );
      expect(await fetchRx(created.id)).toEqual(ended);
    },
  );

  it('another doctor or a nurse may not cancel or complete (403); an admin may (200)', async () => {
    const created = await prescribe(await newPatient());
    for (const user of [otherDoctor, nurse, receptionist]) {
      for (const action of ['cancel', 'complete']) {
        expectProblem(
          await api(t.app).as(user).post(`/prescriptions/${created.id}/${action}`),
          403,
          'forbidden',
        );
      }
    }
    expect((await fetchRx(created.id)).status).toBe('active');
    const res = await api(t.app).as(admin).post(`/prescriptions/${created.id}/cancel`, {
      reason: 'Entered in error',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<PrescriptionDto>()).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'Entered in error',
    });
  });

  it('unknown ids -> 404', async () => {
    for (const action of ['cancel', 'complete']) {
      expectProblem(
        await api(t.app).as(doctor).post(`/prescriptions/${randomUUID()}/${action}`),
        404,
        'not_found',
      );
    }
  });
});
