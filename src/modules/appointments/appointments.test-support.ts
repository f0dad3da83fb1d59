/**
 * What the appointments.*.int.test.ts files share: each calls useAppointmentsApp() for its own
 * app and users (live bindings below), and uses the helpers to book and move appointments.
 */
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Static } from 'typebox';
import {
  api,
  createUser,
  problemOf,
  unique,
  type PageBody,
  type TestApp,
  type TestUser,
  createUsers,
  useTestApp,
} from '../../../test/helpers.js';
import type { AppointmentDto, AvailabilitySchema, StatusSchema } from './appointments.schemas.js';

export let t: TestApp;
export let admin: TestUser;
export let nurse: TestUser;
export let receptionist: TestUser;

/**
 * Registers the file's hooks: an app (every day a workday) on its own database, an admin, a
 * nurse and a receptionist.
 */
export function useAppointmentsApp(): void {
  // Every weekday is a workday so availability can be asked for any date.
  useTestApp(
    async (app) => {
      t = app;
      [admin, nurse, receptionist] = await createUsers(t.app, 'admin', 'nurse', 'receptionist');
    },
    { WORKDAYS: '1-7' },
  );
}

export type Status = Static<typeof StatusSchema>;
export type AvailabilityBody = Static<typeof AvailabilitySchema>;

export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** Midnight UTC `days` days from today, as epoch ms. */
export function dayStart(days: number): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days);
}

/** An RFC 3339 UTC instant `days` ahead at hh:mm UTC (always in the future for days >= 1). */
export function at(days: number, hh: number, mm = 0): string {
  return new Date(dayStart(days) + (hh * 60 + mm) * MINUTE).toISOString();
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export async function newDoctor(): Promise<TestUser> {
  return createUser(t.app, 'doctor');
}

export async function newPatient(name = unique('Pat')): Promise<string> {
  const res = await api(t.app)
    .as(nurse)
    .post('/patients', {
      first_name: name,
      last_name: unique('Last'),
    });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

export function book(
  token: string,
  body: { patient_id: string; doctor_id: string; starts_at: string; [k: string]: unknown },
) {
  return api(t.app).as(token).post('/appointments', body);
}

export async function booked(
  body: { patient_id: string; doctor_id: string; starts_at: string; [k: string]: unknown },
  token = nurse.accessToken,
): Promise<AppointmentDto> {
  const res = await book(token, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<AppointmentDto>();
}

export const actionPath = {
  confirm: 'confirm',
  check_in: 'check-in',
  complete: 'complete',
  cancel: 'cancel',
  no_show: 'no-show',
} as const;
export type Action = keyof typeof actionPath;

export function act(
  id: string,
  action: Action,
  token = nurse.accessToken,
  reason = 'patient request',
) {
  return api(t.app)
    .as(token)
    .post(
      `/appointments/${id}/${actionPath[action]}`,
      action === 'cancel' ? { reason } : undefined,
    );
}

export async function actOk(id: string, action: Action): Promise<AppointmentDto> {
  const res = await act(id, action);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<AppointmentDto>();
}

/** The actions that lead from a fresh (scheduled) appointment to each status. */
export const pathTo: Record<Status, Action[]> = {
  scheduled: [],
  confirmed: ['confirm'],
  checked_in: ['confirm', 'check_in'],
  completed: ['confirm', 'check_in', 'complete'],
  cancelled: ['cancel'],
  no_show: ['no_show'],
};

export function conflictingIdOf(res: LightMyRequestResponse): unknown {
  const problem = problemOf(res);
  expect(problem.status).toBe(409);
  return (problem as unknown as Record<string, unknown>).conflicting_appointment_id;
}

export async function listAll(query: string, token = nurse.accessToken): Promise<AppointmentDto[]> {
  const out: AppointmentDto[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const sep = query === '' ? '?' : `?${query}&`;
    const url: string =
      cursor === null ? `/appointments${sep}limit=100` : `/appointments${sep}cursor=${cursor}`;
    const res = await api(t.app).as(token).get(url);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PageBody<AppointmentDto>>();
    out.push(...body.items);
    cursor = body.next_cursor;
    if (cursor === null) return out;
  }
  throw new Error('appointment list did not end');
}
