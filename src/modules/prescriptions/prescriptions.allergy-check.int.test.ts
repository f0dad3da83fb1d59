import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/audit.js';
import { api, problemOf } from '../../../test/helpers.js';
import {
  t,
  admin,
  doctor,
  nurse,
  receptionist,
  usePrescriptionsApp,
  expectProblem,
  newPatient,
} from './prescriptions.test-support.js';

usePrescriptionsApp();

interface CheckAnswer {
  warnings: { code: string; allergen: string; message: string }[];
}

const checkUrl = (patientId: string, medication: string) =>
  `/patients/${patientId}/allergy-check?medication=${encodeURIComponent(medication)}`;

async function prescriptionCount(patientId: string): Promise<number> {
  const res = await api(t.app).as(doctor).get(`/patients/${patientId}/prescriptions`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: unknown[] }>().items.length;
}

describe('GET /patients/{id}/allergy-check', () => {
  it('warns of a class match (amoxicillin for a penicillin allergy), as a prescription would', async () => {
    const patientId = await newPatient(['penicillin', 'latex']);
    const res = await api(t.app).as(doctor).get(checkUrl(patientId, 'Amoxicillin 500 mg'));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<CheckAnswer>();
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings[0]).toMatchObject({ code: 'allergy_match', allergen: 'penicillin' });
    expect(body.warnings[0]?.message).toMatch(/penicillin/);

    // The same warnings the saved prescription then carries; the check itself saved nothing.
    expect(await prescriptionCount(patientId)).toBe(0);
    const saved = await api(t.app).as(doctor).post('/prescriptions', {
      patient_id: patientId,
      medication: 'Amoxicillin 500 mg',
      dosage: '1 capsule',
      frequency: 'three times a day',
    });
    expect(saved.statusCode, saved.body).toBe(201);
    expect(saved.json<CheckAnswer>().warnings).toEqual(body.warnings);
  });

  it('answers an empty list when nothing matches', async () => {
    const patientId = await newPatient(['penicillin']);
    const res = await api(t.app).as(doctor).get(checkUrl(patientId, 'Metformin 850 mg'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<CheckAnswer>()).toEqual({ warnings: [] });
  });

  it('is open to the roles that may read prescriptions and allergies (nurse, admin)', async () => {
    const patientId = await newPatient(['ibuprofen']);
    for (const user of [nurse, admin]) {
      const res = await api(t.app).as(user).get(checkUrl(patientId, 'Naproxen'));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<CheckAnswer>().warnings.map((w) => w.allergen)).toEqual(['ibuprofen']);
    }
  });

  it('refuses a receptionist with 403, whose answer names no allergy', async () => {
    const patientId = await newPatient(['penicillin']);
    const res = await api(t.app).as(receptionist).get(checkUrl(patientId, 'Amoxicillin'));
    expectProblem(res, 403, 'forbidden');
    expect(res.body).not.toMatch(/penicillin/i);
  });

  it('answers 404 for an unknown patient', async () => {
    const res = await api(t.app).as(doctor).get(checkUrl(randomUUID(), 'Amoxicillin'));
    expectProblem(res, 404, 'not_found');
  });

  it.each([
    ['missing', `/patients/PATIENT/allergy-check`],
    ['empty', `/patients/PATIENT/allergy-check?medication=`],
    ['blank', `/patients/PATIENT/allergy-check?medication=%20%20`],
    ['too long', `/patients/PATIENT/allergy-check?medication=${'a'.repeat(201)}`],
  ])('answers 400 naming the field when the medication is %s', async (_case, url) => {
    const patientId = await newPatient(['penicillin']);
    const res = await api(t.app).as(doctor).get(url.replace('PATIENT', patientId));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(problemOf(res).errors?.map((error) => error.field)).toEqual(['query.medication']);
  });

  it("is audited as a read of the patient's record, saying why but not the medication", async () => {
    const patientId = await newPatient(['penicillin']);
    const res = await api(t.app).as(doctor).get(checkUrl(patientId, 'Amoxicillin'));
    expect(res.statusCode, res.body).toBe(200);
    const rows = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.patientId, patientId),
          eq(auditLog.actorId, doctor.id),
          eq(auditLog.action, 'patient.read'),
        ),
      );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      resourceType: 'patient',
      resourceId: patientId,
      details: { purpose: 'allergy_check', allergy_warnings: 1 },
    });
    expect(JSON.stringify(rows[0]?.details)).not.toMatch(/amoxicillin/i);
  });
});
