/**
 * What mfa.setup.int.test.ts and mfa.login.int.test.ts share: the app and an admin (live
 * bindings) on a test clock, TOTP codes by that clock, enrolment and the two login steps.
 */
import { and, asc, eq } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, expect } from 'vitest';
import { auditLog } from '../../../db/schema/audit.js';
import { users } from '../../../db/schema/users.js';
import {
  api,
  bearer,
  buildTestApp,
  createUser,
  testClock,
  type TestApp,
  type TestUser,
} from '../../../../test/helpers.js';

export const clock = testClock();
export let t: TestApp;
export let admin: TestUser;

/** Registers the file's hooks: an app on its own database, on the test clock, and an admin. */
export function useMfaApp(): void {
  beforeAll(async () => {
    t = await buildTestApp({}, { clock });
    admin = await createUser(t.app, 'admin');
  });
  afterAll(async () => {
    await t.close();
  });
}

export const step = 30_000;

export function post(url: string, payload?: object, headers: Record<string, string> = {}) {
  return api(t.app).post(`/auth${url}`, payload, { headers });
}

/** The code an authenticator app would show now (by the app's clock). */
export function codeNow(secret: string, offsetMs = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({
    timestamp: clock.now().getTime() + offsetMs,
  });
}

/** A code of a later step than any used so far: the clock moves on by one step first. */
export function nextCode(secret: string): string {
  clock.advance(step);
  return codeNow(secret);
}

/** A code that is certainly wrong now (the real one, last digit changed). */
export function wrongCode(secret: string): string {
  const code = codeNow(secret);
  return code.slice(0, 5) + String((Number(code[5]) + 1) % 10);
}

export interface Enrolled extends TestUser {
  secret: string;
  backupCodes: string[];
  /** The code that turned MFA on. */
  enablingCode: string;
}

export async function enrol(role: TestUser['role'] = 'doctor'): Promise<Enrolled> {
  const user = await createUser(t.app, role);
  const setup = await post(
    '/mfa/totp/setup',
    { password: user.password },
    bearer(user.accessToken),
  );
  expect(setup.statusCode, setup.body).toBe(200);
  const { secret } = setup.json<{ secret: string }>();
  const enablingCode = codeNow(secret);
  const enable = await post('/mfa/totp/enable', { code: enablingCode }, bearer(user.accessToken));
  expect(enable.statusCode, enable.body).toBe(200);
  const backupCodes = enable.json<{ backup_codes: string[] }>().backup_codes;
  return { ...user, secret, backupCodes, enablingCode };
}

export async function passwordStep(user: TestUser): Promise<string> {
  const res = await post('/login', { email: user.email, password: user.password });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json<{ mfa_required: boolean; mfa_token: string; access_token?: string }>();
  expect(body.mfa_required).toBe(true);
  expect(body.access_token).toBeUndefined();
  return body.mfa_token;
}

export function verify(mfaToken: string, code: string) {
  return post('/mfa/verify', { mfa_token: mfaToken, code });
}

export async function userRow(id: string) {
  const [row] = await t.app.ctx.db.select().from(users).where(eq(users.id, id));
  if (!row) throw new Error('no such user');
  return row;
}

export function auditOf(actorId: string, action: string) {
  return t.app.ctx.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.actorId, actorId), eq(auditLog.action, action)))
    .orderBy(asc(auditLog.seq));
}
