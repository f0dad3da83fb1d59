import { afterAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { buildTestApp, createUser, login } from './helpers.js';

/**
 * Hostile-input fuzzing driven by the OpenAPI document (SECURITY.md "Input and limits"): for
 * every documented operation, at least 300 inputs across body, query, path and headers. Nothing
 * may answer >= 500, every 4xx must be RFC 9457 problem+json, and nothing may take 2 s or more.
 *
 * Inputs come from a seeded PRNG: a failure names the seed and input, and re-running with
 * FUZZ_SEED=<seed> replays exactly the same inputs.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_1234);
const INPUTS_PER_ROUTE = 300;
const SLOW_MS = 2_000;

/** mulberry32: a tiny, fast, seedable PRNG (public domain). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a, so each route gets its own stream that does not depend on the order of routes. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

type Rng = () => number;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);
function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[int(rng, items.length)] as T;
}
function hex(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += int(rng, 16).toString(16);
  return out;
}
function randomUuid(rng: Rng): string {
  const h = hex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

// --- the OpenAPI document ---------------------------------------------------------------------

interface JsonSchema {
  $ref?: string;
  type?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
}
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}
interface Operation {
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

// --- hostile values ---------------------------------------------------------------------------

function deepObject(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}
function deepArray(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const sqlish = [
  "' OR 1=1--",
  "'; DROP TABLE users;--",
  '" OR ""="',
  "admin'--",
  "1' UNION SELECT password FROM users--",
  "'); SELECT pg_sleep(5);--",
  '\\',
  "%' AND 1=1 AND '%'='",
];
const strings = [
  '',
  ' ',
  '0',
  '123',
  '-1',
  'true',
  'false',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '1e400',
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u0003',
  '\u001b[2J',
  '\u007f',
  'line\r\nbreak',
  'tab\there',
  '\ud800',
  '\udfff\ud800',
  '\uffff\ufffe',
  '\u202eevil.exe',
  '\u200b\u200d\ufeff',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🩺👩🏽‍⚕️',
  'Z̷̢̛͔a̶͎͝l̷̰̓g̵̱̈́o̴͚͐',
  'İıŞş ß ﬁ',
  'ß'.repeat(200),
  '🩺'.repeat(150),
  'x'.repeat(255),
  'x'.repeat(10_000),
  '../../../../etc/passwd',
  '..%2f..%2f',
  '%00',
  '%',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  'ADMIN',
  'admin ',
  '2026-02-30T25:61:61Z',
  'user@',
  '@example.test',
  'a@b',
  `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`,
  ...sqlish,
];
const jsonValues: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  1.5,
  -0.000001,
  2 ** 31,
  -(2 ** 31) - 1,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  -1e308,
  [],
  [1, 2, 3],
  ['a'],
  [null],
  {},
  { $gt: '' },
  { toString: 'x' },
  deepObject(200),
  deepArray(200),
  ...strings,
];

/** Whole bodies as raw text, sent as application/json. */
const rawJsonBodies = [
  'null',
  '[]',
  '"string"',
  '123',
  'true',
  '{}',
  '1e400',
  '-0',
  '{"a":1,"a":2}',
  '\ufeff{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":{"__proto__":{"polluted":true}}}',
  '[{"__proto__":{"polluted":true}}]',
  '['.repeat(10_000) + ']'.repeat(10_000),
  '['.repeat(100_000) + ']'.repeat(100_000),
  '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
  '{"a":'.repeat(20_000) + '{"__proto__":{"x":1}}' + '}'.repeat(20_000),
  `"${'x'.repeat(1_048_600)}"`,
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"a":1',
  '{,}',
  "{'a':1}",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":undefined}',
  '/* comment */ {}',
  '{"a":1}{"b":2}',
  '   ',
];

const hostilePathValues = [
  'x',
  '1',
  '-1',
  '0',
  'null',
  'undefined',
  'true',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '01A20000-0000-7000-8000-00000000000A',
  '{01a20000-0000-7000-8000-000000000000}',
  '01a20000-0000-7000-8000-000000000000-extra',
  '01a20000000070008000000000000000',
  '01a20000-0000-7000-8000-00000000000g',
  ' 01a20000-0000-7000-8000-000000000000',
  'a'.repeat(200),
  'a'.repeat(201),
  'a'.repeat(5_000),
  '..',
  '.',
  '\u0000',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '<script>',
  '__proto__',
  'constructor',
  ...sqlish,
];
/** Sent without encoding: broken percent-escapes and traversal tricks. */
const rawPathValues = ['%', '%ZZ', '%00', '%2e%2e', '..%2f..%2fetc', '%E0%A4%A', '%C0%AE', 'a%20b'];

const hostileAuthorization = [
  'Bearer',
  'Bearer ',
  'Bearer x',
  'Bearer null',
  'bearer a.b.c',
  'Basic YWRtaW46YWRtaW4=',
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.',
  'Bearer ' + 'a'.repeat(5_000),
  'Bearer ' + 'a.'.repeat(100),
  "Bearer ' OR 1=1--",
  'Token abc',
];

// --- random structured values ---------------------------------------------------------------

const alphabet = [
  'a',
  'Z',
  '0',
  '_',
  '-',
  '.',
  '@',
  ' ',
  "'",
  '"',
  '\\',
  '/',
  '%',
  '\u0000',
  '\u0007',
  '\n',
  '\u007f',
  'é',
  'ß',
  '山',
  '🩺',
  '\u202e',
  '\ud800',
];
function randomString(rng: Rng): string {
  const length = pick(rng, [0, 1, 2, 8, 20, 64, 129, 201, 255, 1_000]);
  let out = '';
  for (let i = 0; i < length; i++) out += pick(rng, alphabet);
  return out;
}
const randomKeys = ['a', 'email', 'password', 'role', '__proto__', 'constructor', 'prototype', ''];
function randomValue(rng: Rng, depth = 0): unknown {
  const kind = int(rng, depth > 3 ? 6 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng() < 0.5;
    case 2:
      return pick(rng, [0, -1, 1, 2 ** 53, -(2 ** 63), 1e308, 0.5, -1.5]) * (rng() < 0.5 ? 1 : -1);
    case 3:
      return Math.floor((rng() - 0.5) * 2 ** 40);
    case 4:
    case 5:
      return rng() < 0.3 ? pick(rng, strings) : randomString(rng);
    case 6:
      return Array.from({ length: int(rng, 4) }, () => randomValue(rng, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = int(rng, 4); i > 0; i--) {
        Object.defineProperty(object, pick(rng, randomKeys), {
          value: randomValue(rng, depth + 1),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return object;
    }
  }
}
function randomBytes(rng: Rng, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = int(rng, 256);
  return bytes;
}

// --- the app, its users and the operations ------------------------------------------------------

const t = await buildTestApp();
afterAll(async () => {
  await t.close();
});
const doc = (await t.app.inject('/openapi.json')).json<OpenApiDoc>();

interface Actor {
  email: string;
  password: string;
  token: string;
}
async function newAdmin(): Promise<Actor> {
  const user = await createUser(t.app, 'admin');
  return { email: user.email, password: user.password, token: user.accessToken };
}
const sharedAdmin = await newAdmin();
const loginTarget = await createUser(t.app, 'user');
// A real account for path ids, so body fuzzing reaches the service and the database.
const victim = await createUser(t.app, 'doctor');

/** Operations that end the caller's own session(s) get an admin of their own. */
const endsOwnSession = /\/auth\/(logout|logout-all|password\/change|sessions\/\{id\})$/;

interface Op {
  method: string;
  path: string;
  op: Operation;
  guarded: boolean;
  body: JsonSchema | undefined;
}
const operations: Op[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
    .map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      op,
      guarded: op.security !== undefined,
      body: op.requestBody?.content['application/json']?.schema,
    })),
);

function resolve(schema: JsonSchema): JsonSchema {
  if (schema.$ref === undefined) return schema;
  const name = schema.$ref.split('/').pop() ?? '';
  return doc.components.schemas[name] ?? {};
}

/** A value the schema accepts, so that one mutated field at a time gets past the others. */
function validValue(raw: JsonSchema, rng: Rng, name: string): unknown {
  const schema = resolve(raw);
  if (schema.anyOf) {
    const first = schema.anyOf.find((s) => s.type !== 'null') ?? {};
    return validValue(first, rng, name);
  }
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  switch (schema.type ?? 'untyped') {
    case 'string': {
      if (schema.format === 'email') return `f${hex(rng, 10)}@example.test`;
      if (schema.format === 'uuid') return victim.id;
      if (schema.format === 'date-time') return new Date().toISOString();
      if (name === 'refresh_token') return loginTarget.refreshToken;
      // Long enough to pass the password-strength check; letters and digits match every pattern.
      const length = Math.min(schema.maxLength ?? 24, Math.max(schema.minLength ?? 0, 24));
      return `Fz${hex(rng, 40)}`.slice(0, length);
    }
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, Math.min(schema.maximum ?? 1, 1));
    case 'boolean':
      return false;
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) {
        out[key] = validValue(schema.properties?.[key] ?? {}, rng, key);
      }
      return out;
    }
    default:
      return null;
  }
}

// --- inputs -----------------------------------------------------------------------------------

interface Input {
  label: string;
  body?: string | Buffer;
  contentType?: string;
  query?: string;
  path?: Record<string, string>;
  headers?: Record<string, string>;
}

function baseBody(op: Op, rng: Rng): Record<string, unknown> {
  const schema = op.body ? resolve(op.body) : {};
  const valid = validValue(schema, rng, 'body');
  const body = (typeof valid === 'object' && valid !== null ? valid : {}) as Record<
    string,
    unknown
  >;
  if (op.path.endsWith('/auth/login')) {
    return { email: loginTarget.email, password: loginTarget.password };
  }
  if (Object.keys(body).length === 0 && schema.properties) {
    // Nothing required (a PATCH): start from one harmless field.
    const first = Object.entries(schema.properties).find(([, s]) => resolve(s).type === 'string');
    if (first) body[first[0]] = validValue(first[1], rng, first[0]);
  }
  return body;
}

/** encodeURIComponent, except that lone surrogates go out as the UTF-8 of U+FFFD. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...Buffer.from(value, 'utf8')]
      .map((b) => `%${b.toString(16).padStart(2, '0')}`)
      .join('');
  }
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

function inputsFor(op: Op, rng: Rng): Input[] {
  const inputs: Input[] = [];
  const params = op.op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const headerParams = params.filter((p) => p.in === 'header');
  const takesBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method);

  for (const param of pathParams) {
    for (const value of hostilePathValues) {
      inputs.push({
        label: `path ${param.name}=${json(value).slice(0, 60)}`,
        path: { [param.name]: encode(value) },
      });
    }
    for (const value of rawPathValues) {
      inputs.push({ label: `raw path ${param.name}=${value}`, path: { [param.name]: value } });
    }
    for (let i = 0; i < 10; i++) {
      inputs.push({
        label: `random uuid ${param.name}`,
        path: { [param.name]: randomUuid(rng) },
      });
    }
  }

  for (const param of queryParams) {
    for (const value of [...strings, '1.5', '1e3', '101', '-0', '0x10', '1,2']) {
      inputs.push({
        label: `query ${param.name}=${json(value).slice(0, 60)}`,
        query: `${param.name}=${encode(value)}`,
      });
    }
    inputs.push(
      { label: `query ${param.name} twice`, query: `${param.name}=1&${param.name}=2` },
      { label: `query ${param.name}[]`, query: `${param.name}[]=1` },
      { label: `query ${param.name}[x]`, query: `${param.name}[x]=1` },
      { label: `query ${param.name} empty`, query: `${param.name}=` },
      { label: `query ${param.name} bare`, query: param.name },
    );
  }
  for (const query of [
    '__proto__[polluted]=1',
    '__proto__=1',
    'constructor[prototype][polluted]=1',
    'unknown=1',
    '%',
    '%ZZ=%ZZ',
    `a=${'x'.repeat(10_000)}`,
    '&&&=&=',
    `${'k'.repeat(2_000)}=v`,
  ]) {
    inputs.push({ label: `query ${query.slice(0, 40)}`, query });
  }

  for (const param of headerParams) {
    for (const value of [
      '',
      '*',
      'W/"1"',
      '"1"',
      '"abc"',
      '1',
      '"-1"',
      'x'.repeat(201),
      '" OR 1=1--',
    ]) {
      inputs.push({
        label: `header ${param.name}=${value.slice(0, 40)}`,
        headers: { [param.name]: value },
      });
    }
  }

  if (op.guarded) {
    for (const authorization of hostileAuthorization) {
      inputs.push({
        label: `authorization ${authorization.slice(0, 40)}`,
        headers: { authorization },
      });
    }
  }

  if (takesBody) {
    for (const raw of rawJsonBodies) {
      inputs.push({
        label: `raw body ${raw.slice(0, 40)}`,
        body: raw,
        contentType: 'application/json',
      });
    }
    for (const contentType of [
      'text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=zzz',
      'application/xml',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/vnd.api+json',
      'application/problem+json',
      'APPLICATION/JSON',
      '',
    ]) {
      inputs.push({
        label: `content-type ${contentType || '(none)'}`,
        body: json(baseBody(op, rng)),
        contentType,
      });
    }
    inputs.push(
      {
        label: 'form body',
        body: 'email=a%40b.co&password=x&__proto__[polluted]=1&grant_type=password',
        contentType: 'application/x-www-form-urlencoded',
      },
      {
        label: 'form body, control chars',
        body: 'username=a%00b&password=%01%02&grant_type=password',
        contentType: 'application/x-www-form-urlencoded',
      },
    );
    for (let i = 0; i < 5; i++) {
      const length = pick(rng, [1, 16, 512, 4_096, 65_536]);
      inputs.push({
        label: `random bytes (${length}) as json`,
        body: randomBytes(rng, length),
        contentType: 'application/json',
      });
    }

    const schema = op.body ? resolve(op.body) : undefined;
    const properties = Object.keys(schema?.properties ?? {});
    for (const name of properties) {
      for (const value of jsonValues) {
        inputs.push({
          label: `body.${name}=${json(value).slice(0, 60)}`,
          body: json({ ...baseBody(op, rng), [name]: value }),
          contentType: 'application/json',
        });
      }
      // A valid value for this field too, so the service itself runs with odd combinations.
      inputs.push({
        label: `body.${name} valid`,
        body: json({
          ...baseBody(op, rng),
          [name]: validValue(schema?.properties?.[name] ?? {}, rng, name),
        }),
        contentType: 'application/json',
      });
      if (schema?.required?.includes(name)) {
        const without = Object.fromEntries(
          Object.entries(baseBody(op, rng)).filter(([key]) => key !== name),
        );
        inputs.push({
          label: `body without ${name}`,
          body: json(without),
          contentType: 'application/json',
        });
      }
    }
    for (const key of [
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      'extra',
    ]) {
      const base = json(baseBody(op, rng));
      const inner = base === '{}' ? '' : ',';
      inputs.push({
        label: `body with extra key ${key}`,
        body: `${base.slice(0, -1)}${inner}"${key}":{"polluted":true}}`,
        contentType: 'application/json',
      });
    }
  }

  // Top up with random inputs until the route has its share.
  while (inputs.length < INPUTS_PER_ROUTE) {
    const input: Input = { label: `random #${inputs.length}` };
    const choice = int(rng, 3);
    if (choice === 0 && pathParams.length > 0) {
      input.path = Object.fromEntries(pathParams.map((p) => [p.name, encode(randomString(rng))]));
    } else if (choice === 1 || !takesBody) {
      const names = [...queryParams.map((p) => p.name), 'x', '__proto__'];
      input.query = Array.from(
        { length: 1 + int(rng, 3) },
        () => `${encode(pick(rng, names))}=${encode(String(randomValue(rng)))}`,
      ).join('&');
    }
    if (takesBody) {
      const value = randomValue(rng);
      const fields = Object.keys(op.body ? (resolve(op.body).properties ?? {}) : {});
      const body =
        fields.length > 0 && rng() < 0.6
          ? { ...baseBody(op, rng), [pick(rng, fields)]: value }
          : value;
      input.body = json(body);
      input.contentType = 'application/json';
    }
    input.label += ` ${JSON.stringify(input).slice(0, 120)}`;
    inputs.push(input);
  }
  return inputs;
}

// --- running ----------------------------------------------------------------------------------

interface Finding {
  input: string;
  status: number;
  problem: string;
  body: string;
}

function checkResponse(res: LightMyRequestResponse, elapsedMs: number): string[] {
  const issues: string[] = [];
  if (res.statusCode >= 500) issues.push(`status ${res.statusCode}`);
  if (elapsedMs >= SLOW_MS) issues.push(`took ${Math.round(elapsedMs)} ms`);
  if (typeof res.headers['x-request-id'] !== 'string') issues.push('no x-request-id');
  if (res.headers['x-content-type-options'] !== 'nosniff') issues.push('no nosniff');
  if (res.statusCode >= 400) {
    const type = String(res.headers['content-type']);
    if (!type.startsWith('application/problem+json')) {
      issues.push(`${res.statusCode} is ${type}, not problem+json`);
      return issues;
    }
    let problem: { status?: unknown; code?: unknown; request_id?: unknown; detail?: unknown };
    try {
      problem = res.json();
    } catch {
      issues.push('problem body is not JSON');
      return issues;
    }
    if (problem.status !== res.statusCode) issues.push(`problem.status ${String(problem.status)}`);
    if (typeof problem.code !== 'string' || typeof problem.detail !== 'string') {
      issues.push('problem without code or detail');
    }
    if (problem.request_id !== res.headers['x-request-id']) issues.push('request_id mismatch');
  }
  return issues;
}

/** One line per kind of finding, with a count and the first input that showed it. */
function summarize(findings: Finding[]): string[] {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const key = `${finding.status} ${finding.problem}`;
    groups.set(key, [...(groups.get(key) ?? []), finding]);
  }
  return [...groups].map(
    ([key, list]) =>
      `${list.length}x ${key} -- e.g. ${list[0]?.input ?? ''} => ${list[0]?.body ?? ''}`,
  );
}

async function stillSignedIn(actor: Actor): Promise<boolean> {
  const res = await t.app.inject({
    url: '/api/v1/users/me',
    headers: { authorization: `Bearer ${actor.token}` },
  });
  return res.statusCode === 200;
}

async function fuzz(
  op: Op,
): Promise<{ count: number; findings: Finding[]; statuses: Set<number> }> {
  const seed = (SEED ^ hash(`${op.method} ${op.path}`)) >>> 0;
  const rng = mulberry32(seed);
  const inputs = inputsFor(op, rng);
  const actor = endsOwnSession.test(op.path) ? await newAdmin() : sharedAdmin;
  const findings: Finding[] = [];
  const statuses = new Set<number>();
  for (const input of inputs) {
    let url = op.path.replace(
      /\{([^}]+)\}/g,
      (_m, name: string) => input.path?.[name] ?? victim.id,
    );
    if (input.query !== undefined) url += `?${input.query}`;
    const headers: Record<string, string> = {};
    if (op.guarded) headers.authorization = `Bearer ${actor.token}`;
    if (input.contentType) headers['content-type'] = input.contentType;
    Object.assign(headers, input.headers);
    const started = performance.now();
    let res: LightMyRequestResponse;
    try {
      res = await t.app.inject({
        method: op.method as 'GET',
        url,
        headers,
        ...(input.body === undefined ? {} : { payload: input.body }),
      });
    } catch (error) {
      findings.push({
        input: input.label,
        status: 0,
        problem: 'inject threw',
        body: String(error),
      });
      continue;
    }
    const elapsed = performance.now() - started;
    statuses.add(res.statusCode);
    const issues = checkResponse(res, elapsed);
    if (issues.length > 0) {
      findings.push({
        input: input.label,
        status: res.statusCode,
        problem: issues.join(', '),
        body: res.body.slice(0, 160),
      });
    }

    // Keep the actor usable: a changed password is remembered, a lost session is replaced.
    if (
      res.statusCode === 204 &&
      op.path.endsWith('/password/change') &&
      typeof input.body === 'string'
    ) {
      const sent = JSON.parse(input.body) as { new_password?: string };
      if (typeof sent.new_password === 'string') actor.password = sent.new_password;
    }
    if (
      op.guarded &&
      (res.statusCode === 401 || res.statusCode === 403) &&
      !input.headers?.authorization
    ) {
      if (!(await stillSignedIn(actor))) {
        try {
          actor.token = (await login(t.app, actor.email, actor.password)).access_token;
        } catch {
          Object.assign(actor, await newAdmin());
        }
      }
    }
  }
  return { count: inputs.length, findings, statuses };
}

describe(`fuzzing every documented operation (seed ${SEED})`, () => {
  it('covers the whole API', () => {
    expect(operations.length).toBeGreaterThanOrEqual(15);
    expect(operations.some((o) => o.guarded)).toBe(true);
  });

  for (const op of operations) {
    it(`${op.method} ${op.path}: no 5xx, every 4xx is problem+json, none slower than 2 s`, async () => {
      const { count, findings, statuses } = await fuzz(op);
      expect(count).toBeGreaterThanOrEqual(INPUTS_PER_ROUTE);
      expect(summarize(findings), `seed ${SEED}`).toEqual([]);
      // Where there is anything to refuse (parameters, a body, a token), some input was refused.
      const refusable = op.guarded || op.body !== undefined || (op.op.parameters ?? []).length > 0;
      if (refusable) expect([...statuses].some((s) => s >= 400 && s < 500)).toBe(true);
      else expect([...statuses].every((s) => s >= 200 && s < 300)).toBe(true);
    }, 60_000);
  }

  it('left no prototype polluted', () => {
    const probe = {} as Record<string, unknown>;
    expect(probe.polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Array.prototype).not.toHaveProperty('polluted');
  });

  it('left the shared admin signed in and the app ready', async () => {
    expect(await stillSignedIn(sharedAdmin)).toBe(true);
    expect((await t.app.inject('/health/ready')).statusCode).toBe(200);
  });
});
