import { afterAll, beforeAll } from 'vitest';
import {
  buildTestApp,
  createUser,
  strongPassword,
  unique,
  type TestApp,
  type TestUser,
} from './helpers.js';

/** What platform.int.test.ts and platform-bodies.int.test.ts share. */
export let t: TestApp;
export let admin: TestUser;

/** Registers the file's hooks: an app on its own database and an admin. */
export function usePlatformApp(): void {
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await createUser(t.app, 'admin');
  });
  afterAll(async () => {
    await t.close();
  });
}

export const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function register(payload: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

export function validRegistration(extra: Record<string, unknown> = {}) {
  const username = unique();
  return { email: `${username}@example.test`, username, password: strongPassword, ...extra };
}

/** A throwaway account to PATCH as admin. */
export async function victim() {
  return createUser(t.app, 'user');
}
