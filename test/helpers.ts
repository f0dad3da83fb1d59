import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type BuildOptions } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import type { Role } from '../src/db/schema/users.js';
import type { Clock } from '../src/lib/clock.js';
import { createAccount } from '../src/modules/users/users.service.js';

/**
 * Test infrastructure. Each test file gets its own database: an in-memory PGlite by default, or
 * a fresh database on the server named by TEST_DATABASE_URL (CI), dropped afterwards. Redis is
 * used when TEST_REDIS_URL is set.
 */
export const testSecret = 'test-secret-that-is-long-enough-0123456789';

export async function createPgDatabase(
  baseUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `medcore_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  close: () => Promise<void>;
}

/** A mutable clock for tests that need time to pass (grace windows, expiry). */
export function testClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance(ms: number) {
      offset += ms;
    },
  };
}

export interface TestAppOptions extends BuildOptions {
  /** Rewrites the per-file PostgreSQL URL the app uses (the outage tests put a proxy between). */
  routeDatabaseUrl?: (url: string) => string;
}

export async function buildTestApp(
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const { routeDatabaseUrl, ...buildOptions } = options;
  const pgBase = process.env.TEST_DATABASE_URL;
  const database = pgBase ? await createPgDatabase(pgBase) : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    JWT_SECRET: testSecret,
    // Many tests share one client address; the rate-limit tests switch it back on.
    RATE_LIMIT_ENABLED: 'false',
    // No reminder job in the background of every test file (its emails and audit rows would
    // mix with theirs); the reminder tests switch it on.
    REMINDER_LEAD_MINUTES: '0',
    // A test process shares two cores with others: a start-up or GC pause must not turn into
    // 503s in unrelated tests. The overload tests switch it back on.
    OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
    // For the same reason a query gets 10 s rather than production's 1.5 s: a test process
    // starved of CPU for over a second and a half (seen once in CI) had its connection cut in the
    // middle of a transaction. Connecting gets 10 s too: twenty parallel requests opening fresh
    // PostgreSQL connections on the loaded CI machine all took over production's 1 s (seen once,
    // as twenty 503s). The outage tests set the production figures they reason about.
    DB_QUERY_TIMEOUT_MS: '10000',
    DB_STATEMENT_TIMEOUT_MS: '10000',
    DB_CONNECT_TIMEOUT_MS: '10000',
    ...(database ? { DATABASE_URL: routeDatabaseUrl?.(database.url) ?? database.url } : {}),
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    ...env,
  });
  const app = await buildApp(config, { logger: false, ...buildOptions });
  return {
    app,
    config,
    close: async () => {
      await app.close();
      await database?.drop();
    },
  };
}

export function unique(prefix = 'u'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export const strongPassword = 'a sturdy passphrase 42';

export interface TestUser {
  id: string;
  email: string;
  username: string;
  password: string;
  role: Role;
  accessToken: string;
  refreshToken: string;
}

/** Creates an account of the given role directly, then logs in through HTTP. */
export async function createUser(app: FastifyInstance, role: Role = 'user'): Promise<TestUser> {
  const username = unique(role);
  const email = `${username}@example.test`;
  const row = await createAccount(app.ctx, { email, username, password: strongPassword }, role);
  const tokens = await login(app, email, strongPassword);
  return {
    id: row.id,
    email,
    username,
    password: strongPassword,
    role,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
  };
}

/** One account per role given, in that order (made in parallel): `[admin, nurse] = await ...`. */
export async function createUsers<const R extends readonly Role[]>(
  app: FastifyInstance,
  ...roles: R
): Promise<{ [K in keyof R]: TestUser }> {
  return (await Promise.all(roles.map((role) => createUser(app, role)))) as {
    [K in keyof R]: TestUser;
  };
}

/**
 * Registers a test file's hooks, which most files wrote out the same way: an app on its own
 * database before the tests (then `setUp`, which keeps it in the file's `t` and makes the file's
 * users), closed after them.
 */
export function useTestApp(
  setUp: (t: TestApp) => Promise<void>,
  env: Record<string, string> = {},
): void {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await buildTestApp(env);
    await setUp(t);
  });
  afterAll(async () => {
    await t?.close();
  });
}

export interface TokenPairBody {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in: number;
}

export async function login(app: FastifyInstance, email: string, password: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json<TokenPairBody>();
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who calls: a test user, a bare access token, or nobody (no Authorization header). */
export type Caller = { accessToken: string } | string | undefined;

/**
 * A request body, as `app.inject()` takes it: an object or array is sent as JSON (with
 * `content-type: application/json` unless a header says otherwise), a string or Buffer as is.
 */
export type Body = NonNullable<InjectOptions['payload']>;

export interface RequestOptions {
  headers?: Record<string, string>;
}

/** A keyset page, as every list endpoint answers. */
export interface PageBody<T> {
  items: T[];
  next_cursor: string | null;
}

/** The light-my-request response, with a `json<T>()` that asks for the body's type. */
export type ApiResponse = Omit<LightMyRequestResponse, 'json'> & {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names it
  json<T = unknown>(): T;
};

/**
 * The shared test client: `api(t.app).as(admin).post('/patients', body)`. Paths are relative to
 * `/api/v1` unless `prefix` says otherwise (`api(t.app, { prefix: '' }).get('/health')`). Name
 * the body's type when reading it, from the module's schemas: `res.json<PatientDto>()`.
 */
export interface ApiClient {
  /** The same client, calling as `caller` (`Authorization: Bearer ...`; none for undefined). */
  as(caller: Caller): ApiClient;
  get(url: string, options?: RequestOptions): Promise<ApiResponse>;
  delete(url: string, options?: RequestOptions): Promise<ApiResponse>;
  post(url: string, body?: Body, options?: RequestOptions): Promise<ApiResponse>;
  put(url: string, body?: Body, options?: RequestOptions): Promise<ApiResponse>;
  patch(url: string, body?: Body, options?: RequestOptions): Promise<ApiResponse>;
  request(method: Method, url: string, body?: Body, options?: RequestOptions): Promise<ApiResponse>;
}

export function api(
  app: FastifyInstance,
  { prefix = '/api/v1', caller }: { prefix?: string; caller?: Caller } = {},
): ApiClient {
  const token = typeof caller === 'string' ? caller : caller?.accessToken;
  const request = (method: Method, url: string, body?: Body, options: RequestOptions = {}) =>
    app.inject({
      method,
      url: `${prefix}${url}`,
      headers: { ...(token === undefined ? {} : bearer(token)), ...options.headers },
      ...(body === undefined ? {} : { payload: body }),
    });
  return {
    as: (who) => api(app, { prefix, caller: who }),
    get: (url, options) => request('GET', url, undefined, options),
    delete: (url, options) => request('DELETE', url, undefined, options),
    post: (url, body, options) => request('POST', url, body, options),
    put: (url, body, options) => request('PUT', url, body, options),
    patch: (url, body, options) => request('PATCH', url, body, options),
    request,
  };
}

/** Asserts the RFC 9457 shape and returns the parsed problem. */
export function problemOf(res: LightMyRequestResponse) {
  const contentType = res.headers['content-type'];
  if (typeof contentType !== 'string' || !contentType.startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${String(contentType)}: ${res.body}`);
  }
  return res.json<{
    type: string;
    title: string;
    status: number;
    detail: string;
    code: string;
    request_id: string;
    errors?: { field: string; message: string }[];
  }>();
}

/** A small RFC 4180 reader for asserting on CSV exports (quotes, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
