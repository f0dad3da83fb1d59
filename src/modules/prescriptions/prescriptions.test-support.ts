/**
 * What the prescriptions.*.int.test.ts files share: each calls usePrescriptionsApp() for its own
 * app and users (live bindings below), and uses the helpers to make patients and prescriptions.
 */
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import {
  api,
  problemOf,
  unique,
  type PageBody,
  type TestApp,
  type TestUser,
  createUsers,
  useTestApp,
} from '../../../test/helpers.js';
import type { PrescriptionDto } from './prescriptions.schemas.js';
import { onWorkingDay } from '../../../test/working-hours.js';

export let t: TestApp;
export let admin: TestUser;
export let doctor: TestUser;
export let otherDoctor: TestUser;
export let nurse: TestUser;
export let receptionist: TestUser;
export let plainUser: TestUser;
export let guest: TestUser;

/** Registers the file's hooks: an app on its own database, users of every role (two doctors). */
export function usePrescriptionsApp(): void {
  useTestApp(async (app) => {
    t = app;
    const roles = ['admin', 'doctor', 'doctor', 'nurse', 'receptionist', 'user', 'guest'] as const;
    [admin, doctor, otherDoctor, nurse, receptionist, plainUser, guest] = await createUsers(
      t.app,
      ...roles,
    );
  });
}

export function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  const problem = problemOf(res);
  expect(problem.status).toBe(status);
  expect(problem.code).toBe(code);
  return problem;
}

export async function newPatient(allergies?: string[]): Promise<string> {
  const res = await api(t.app)
    .as(doctor)
    .post('/patients', {
      first_name: unique('Pat'),
      last_name: unique('Last'),
      ...(allergies === undefined ? {} : { allergies }),
    });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

export function rxBody(patientId: string, extra: Record<string, unknown> = {}) {
  return {
    patient_id: patientId,
    medication: 'Metformin 850 mg',
    dosage: '1 tablet',
    frequency: 'twice daily',
    refills: 2,
    ...extra,
  };
}

export async function prescribe(
  patientId: string,
  extra: Record<string, unknown> = {},
  token = doctor.accessToken,
): Promise<PrescriptionDto> {
  const res = await api(t.app).as(token).post('/prescriptions', rxBody(patientId, extra));
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PrescriptionDto>();
}

export async function fetchRx(id: string, token = doctor.accessToken): Promise<PrescriptionDto> {
  const res = await api(t.app).as(token).get(`/prescriptions/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PrescriptionDto>();
}

/** Follows next_cursor to the end; returns every id in order. */
export async function allIds(url: string, token = doctor.accessToken): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  const sep = url.includes('?') ? '&' : '?';
  for (let page = 0; page < 50; page++) {
    const res = await api(t.app)
      .as(token)
      .get(`${url}${cursor === null ? '' : `${sep}cursor=${cursor}`}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PageBody<PrescriptionDto>>();
    ids.push(...body.items.map((item) => item.id));
    cursor = body.next_cursor;
    if (cursor === null) return ids;
  }
  throw new Error('pagination did not end');
}

/** 10:00 UTC on the `days`-th working day from tomorrow (days >= 1; distinct days stay distinct). */
export function futureStart(days: number): string {
  return onWorkingDay(days - 1, 10);
}

export async function bookAppointment(patientId: string, days: number): Promise<string> {
  const res = await api(t.app)
    .as(doctor)
    .post('/appointments', {
      patient_id: patientId,
      doctor_id: doctor.id,
      starts_at: futureStart(days),
    });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}
