/**
 * What the patients.*.int.test.ts files share: each calls usePatientsApp() for its own app and
 * users (live bindings below), and uses the helpers to make and read patients.
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Static } from 'typebox';
import {
  api,
  buildTestApp,
  createUser,
  parseCsv,
  type PageBody,
  type TestApp,
  type TestUser,
  unique,
} from '../../../test/helpers.js';
import type { NoteSchema, PatientDto, StatsSchema } from './patients.schemas.js';

export let t: TestApp;
export let admin: TestUser;
export let doctor: TestUser;
export let nurse: TestUser;
export let receptionist: TestUser;
export let plainUser: TestUser;
export let guest: TestUser;

/** Registers the file's hooks: an app on its own database, one user of each role. */
export function usePatientsApp(): void {
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await createUser(t.app, 'admin');
    doctor = await createUser(t.app, 'doctor');
    nurse = await createUser(t.app, 'nurse');
    receptionist = await createUser(t.app, 'receptionist');
    plainUser = await createUser(t.app, 'user');
    guest = await createUser(t.app, 'guest');
  });
  afterAll(async () => {
    await t.close();
  });
}

export type NoteBody = Static<typeof NoteSchema>;
export type StatsBody = Static<typeof StatsSchema>;

export const medicalKeys = ['medical_history', 'allergies', 'notes'] as const;

/** Registers a patient (admin by default) and returns the 201 body. */
export async function newPatient(
  extra: Record<string, unknown> = {},
  token: string = admin.accessToken,
  query = '',
): Promise<PatientDto> {
  const res = await api(t.app)
    .as(token)
    .post(`/patients${query}`, {
      first_name: 'Anna',
      last_name: unique('Pat'),
      ...extra,
    });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PatientDto>();
}

/** A unique, valid group slug. */
export function newGroup(prefix = 'g'): string {
  return unique(prefix).toLowerCase();
}

export function uniquePhone(): string {
  return `+48 ${randomInt(100, 999)} ${randomInt(100, 999)} ${randomInt(100, 999)}`;
}

export async function getPatient(
  id: string,
  token: string = admin.accessToken,
): Promise<PatientDto> {
  const res = await api(t.app).as(token).get(`/patients/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PatientDto>();
}

export async function listPage(query: string, token: string = admin.accessToken) {
  const res = await api(t.app).as(token).get(`/patients?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PageBody<PatientDto>>();
}

/** Follows next_cursor to the end; returns every item in order and the number of pages. */
export async function walk(query: string, limit: number, token: string = admin.accessToken) {
  const items: PatientDto[] = [];
  let cursor: string | null = null;
  for (let pages = 1; pages <= 100; pages++) {
    const page = await listPage(
      `${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`,
      token,
    );
    expect(page.items.length).toBeLessThanOrEqual(limit);
    const seen = new Set(items.map((p) => p.id));
    const repeated = page.items.filter((p) => seen.has(p.id)).map((p) => p.id);
    expect(repeated, `page ${pages} repeats rows of earlier pages`).toEqual([]);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (cursor === null) return { items, pages };
    expect(page.items).toHaveLength(limit);
  }
  throw new Error('the list did not end');
}

export async function stats(token: string = admin.accessToken): Promise<StatsBody> {
  const res = await api(t.app).as(token).get('/patients/stats');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<StatsBody>();
}

export async function groupCount(group: string): Promise<number | undefined> {
  const res = await api(t.app).as(receptionist).get('/patients/groups');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PageBody<{ group: string; count: number }>>().items.find((g) => g.group === group)
    ?.count;
}

export function expectNoMedicalKeys(patient: object): void {
  for (const key of medicalKeys) expect(Object.keys(patient), key).not.toContain(key);
}

export async function exportCsv(token: string) {
  const res = await api(t.app).as(token).get('/patients/export.csv');
  expect(res.statusCode, res.body).toBe(200);
  const [header = [], ...rows] = parseCsv(res.body);
  const byId = (id: string): Record<string, string> | undefined => {
    const row = rows.find((r) => r[header.indexOf('id')] === id);
    return row === undefined
      ? undefined
      : Object.fromEntries(header.map((name, i) => [name, row[i] ?? '']));
  };
  return { res, header, rows, byId };
}
