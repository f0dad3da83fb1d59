import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/db/schema/users.js';
import { permissionTable } from '../src/lib/permissions.js';
import {
  api,
  bearer,
  buildTestApp,
  createUser,
  login,
  problemOf,
  type ApiResponse,
  type Method,
  type TestApp,
} from './helpers.js';
import type { Sample } from './permissions-samples.js';
import { routeTable } from './permissions-table.js';

/**
 * The generated access walk (SECURITY.md "Access control"): every /api/v1 operation of the
 * OpenAPI document must appear in the table (permissions-table.ts), and every guarded one is
 * called by each of the six roles. Roles the permission table allows must get through (neither
 * 401 nor 403); every other role gets 403. A route missing from the table fails the walk.
 */

const allRoles = ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'] as const;

interface Operation {
  security?: Record<string, string[]>[];
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
}

const httpMethods = new Set(['get', 'post', 'put', 'patch', 'delete']);

let t: TestApp;
let operations: { key: string; guarded: boolean }[];

beforeAll(async () => {
  t = await buildTestApp();
  const res = await t.app.inject('/openapi.json');
  expect(res.statusCode).toBe(200);
  const doc = res.json<OpenApiDoc>();
  operations = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!httpMethods.has(method)) continue;
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        guarded: (op.security ?? []).length > 0,
      });
    }
  }
});
afterAll(async () => {
  await t.close();
});

function split(key: string): { method: Method; path: string } {
  const [method, path] = key.split(' ') as [string, string];
  return { method: method as Method, path };
}

function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => params[name] ?? randomUUID());
}

async function send(
  key: string,
  sample: Sample,
  headers: Record<string, string>,
): Promise<ApiResponse> {
  const { method, path } = split(key);
  const url = fillPath(path, sample.params) + (sample.query ?? '');
  return api(t.app, { prefix: '' }).request(method, url, sample.payload, {
    headers: { ...sample.headers, ...headers },
  });
}

const guardedEntries = Object.entries(routeTable).filter(([, c]) => c.access !== 'public');

describe('the route table', () => {
  it('covers every /api/v1 operation of the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(0);
    const missing = operations.map((o) => o.key).filter((key) => !(key in routeTable));
    expect(missing, 'routes missing from the permission walk table').toEqual([]);
  });

  it('lists no operation the application does not serve', () => {
    const served = new Set(operations.map((o) => o.key));
    const stale = Object.keys(routeTable).filter((key) => !served.has(key));
    expect(stale, 'table entries with no such route').toEqual([]);
  });

  it('marks as public exactly the operations without a security requirement', () => {
    for (const op of operations) {
      const declared = routeTable[op.key]?.access;
      expect(declared === 'public', op.key).toBe(!op.guarded);
    }
  });

  it('names only permissions that exist in the permission table', () => {
    for (const [key, c] of guardedEntries) {
      expect(Object.keys(permissionTable), key).toContain(c.access);
    }
  });
});

describe.each(guardedEntries)('%s', (key, routeCase) => {
  const permission = routeCase.access as keyof typeof permissionTable;
  const allowed: readonly Role[] = permissionTable[permission];

  it.each(allRoles)('as %s', async (role) => {
    // A fresh caller per request, so logout or password changes never spend a shared token.
    const caller = await createUser(t.app, role);
    const sample = (await routeCase.sample?.(t.app, caller)) ?? {};
    const res = await send(key, sample, bearer(caller.accessToken));
    if (allowed.includes(role)) {
      expect(res.statusCode, res.body).not.toBe(401);
      expect(res.statusCode, res.body).not.toBe(403);
      expect(res.statusCode, res.body).toBeLessThan(500);
      if (routeCase.allowedStatus !== undefined) {
        expect(res.statusCode, res.body).toBe(routeCase.allowedStatus);
      }
    } else {
      expect(res.statusCode, res.body).toBe(403);
      const problem = problemOf(res);
      expect(problem.code).toBe('forbidden');
      expect(problem.status).toBe(403);
    }
    expect(res.body).not.toMatch(/hashed_password/);
  });

  it('without a token: 401 with WWW-Authenticate: Bearer', async () => {
    const res = await send(key, {}, {});
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(problemOf(res).code).toBe('unauthorized');
  });

  it('with a forged or malformed token: 401', async () => {
    for (const authorization of [
      'Bearer not.a.jwt',
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      'Basic dXNlcjpwYXNz',
    ]) {
      const res = await send(key, {}, { authorization });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });
});

describe('every guarded operation of the document', () => {
  it('answers 401 without a token (covers routes the table may not list)', async () => {
    for (const op of operations.filter((o) => o.guarded)) {
      const res = await send(op.key, {}, {});
      expect(res.statusCode, op.key).toBe(401);
      expect(res.headers['www-authenticate'], op.key).toBe('Bearer');
    }
  });
});

describe('is_superuser', () => {
  it('implies admin on admin-only routes, whatever the stored role', async () => {
    const admin = await createUser(t.app, 'admin');
    const plain = await createUser(t.app, 'user');
    expect((await send('GET /api/v1/users', {}, bearer(plain.accessToken))).statusCode).toBe(403);
    const promote = await send(
      'PATCH /api/v1/users/{id}',
      { params: { id: plain.id }, payload: { is_superuser: true } },
      bearer(admin.accessToken),
    );
    expect(promote.statusCode, promote.body).toBe(200);
    // The promotion ended the old sessions; a new login acts as admin.
    const tokens = await login(t.app, plain.email, plain.password);
    const res = await send('GET /api/v1/users', {}, bearer(tokens.access_token));
    expect(res.statusCode).toBe(200);
  });
});
