/**
 * What the users.*.int.test.ts files share: each calls useUsersApp() for its own app and admin
 * (live bindings below), and uses the helpers to create and read accounts.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import { type Role } from '../../db/schema/users.js';
import {
  api,
  buildTestApp,
  createUser,
  strongPassword,
  unique,
  type PageBody,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import type { UserDto } from './users.schemas.js';

export let t: TestApp;
export let admin: TestUser;

/** Registers the file's hooks: an app on its own database and an admin. */
export function useUsersApp(): void {
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await createUser(t.app, 'admin');
  });
  afterAll(async () => {
    await t.close();
  });
}

/** No response may ever carry a password hash (or anything that looks like one). */
export function expectNoSecrets(res: LightMyRequestResponse): void {
  expect(res.body).not.toMatch(/hashed_password|hashedPassword|\$argon2|\$2[aby]\$/);
}

export function userOf(res: LightMyRequestResponse): UserDto {
  expectNoSecrets(res);
  return res.json<UserDto>();
}

/** Admin creates an account through the API; returns the created user. */
export async function adminCreate(
  role: Role,
  extra: { full_name?: string; username?: string; email?: string } = {},
): Promise<UserDto> {
  const username = extra.username ?? unique(role);
  const res = await api(t.app)
    .as(admin)
    .post('/users', {
      email: extra.email ?? `${username}@example.test`,
      username,
      password: strongPassword,
      role,
      ...(extra.full_name === undefined ? {} : { full_name: extra.full_name }),
    });
  expect(res.statusCode, res.body).toBe(201);
  return userOf(res);
}

/** Every active doctor visible through GET /doctors, following the cursor to the end. */
export async function allDoctors(
  token: string,
): Promise<{ id: string; full_name: string | null }[]> {
  const out: { id: string; full_name: string | null }[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const query: string = cursor === null ? '?limit=100' : `?limit=100&cursor=${cursor}`;
    const res = await api(t.app).as(token).get(`/doctors${query}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PageBody<{ id: string; full_name: string | null }>>();
    out.push(...body.items);
    cursor = body.next_cursor;
    if (cursor === null) return out;
  }
  throw new Error('doctor list did not end');
}
