/**
 * What auth.login.int.test.ts and auth.sessions.int.test.ts share: the app (live binding) on a
 * test clock, and shorthands for POST /auth/... and GET /users/me.
 */
import { afterAll, beforeAll } from 'vitest';
import { api, buildTestApp, testClock, type TestApp } from '../../../test/helpers.js';

export const clock = testClock();
export let t: TestApp;

/** Registers the file's hooks: an app on its own database, on the test clock. */
export function useAuthApp(): void {
  beforeAll(async () => {
    t = await buildTestApp({}, { clock });
  });
  afterAll(async () => {
    await t.close();
  });
}

export function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  return api(t.app).post(`/auth${url}`, payload as object, { headers });
}

export function me(token: string) {
  return api(t.app).as(token).get('/users/me');
}
