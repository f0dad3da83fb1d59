import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMedcoreClient, isProblem } from '../client/src/index.js';
import { buildTestApp, createUser, strongPassword, unique, type TestApp } from './helpers.js';

/** The typed client against the real service over HTTP: what a front end built on it sees. */
let t: TestApp;
let baseUrl: string;

beforeAll(async () => {
  t = await buildTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${String((t.app.server.address() as AddressInfo).port)}`;
});
afterAll(async () => {
  await t.close();
});

describe('the typed client', () => {
  it('signs in, sends the bearer token and reads typed answers', async () => {
    const nurse = await createUser(t.app, 'nurse');
    const anonymous = createMedcoreClient({ baseUrl });
    const login = await anonymous.POST('/api/v1/auth/login', {
      body: { email: nurse.email, password: strongPassword },
    });
    expect(login.response.status).toBe(200);
    // The answer is either the tokens or the MFA step; this account has no MFA.
    const token = login.data && 'access_token' in login.data ? login.data.access_token : undefined;
    expect(token).toBeTypeOf('string');

    const api = createMedcoreClient({ baseUrl, accessToken: () => token });
    const me = await api.GET('/api/v1/users/me');
    expect(me.data?.email).toBe(nurse.email);

    const created = await api.POST('/api/v1/patients', {
      body: { first_name: unique('Cli'), last_name: 'Lewandowski' },
    });
    expect(created.response.status).toBe(201);
    const id = created.data?.id ?? '';
    const read = await api.GET('/api/v1/patients/{id}', { params: { path: { id } } });
    expect(read.data?.last_name).toBe('Lewandowski');
  });

  it('gives problem+json errors with the field they concern', async () => {
    const nurse = await createUser(t.app, 'nurse');
    const api = createMedcoreClient({ baseUrl, accessToken: () => nurse.accessToken });
    const bad = await api.POST('/api/v1/patients', {
      // A birth date that is no date: the client's types allow the string, the server refuses it.
      body: { first_name: 'A', last_name: 'B', date_of_birth: 'yesterday' },
    });
    expect(bad.response.status).toBe(400);
    expect(isProblem(bad.error)).toBe(true);
    expect(bad.error?.errors?.some((e) => e.field.includes('date_of_birth'))).toBe(true);

    const anonymous = createMedcoreClient({ baseUrl });
    const denied = await anonymous.GET('/api/v1/users/me');
    expect(denied.response.status).toBe(401);
    expect(denied.error?.status).toBe(401);
  });
});
