import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, problemOf, type TestApp } from './helpers.js';

/**
 * The OpenAPI document is generated from the route schemas; these tests hold it to what Fastify
 * actually serves, so it cannot drift from the code.
 */
let t: TestApp;
let doc: OpenApiDoc;

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  parameters?: { in: string; name: string; schema?: unknown }[];
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

beforeAll(async () => {
  t = await buildTestApp();
  doc = (await t.app.inject('/openapi.json')).json<OpenApiDoc>();
});
afterAll(async () => {
  await t.close();
});

const methodsWithOperations = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Parses `printRoutes({ commonPrefix: false })`: a tree whose children continue their parent's
 * path, e.g. `/api/v1/auth/logout (POST)` with child `-all (POST)`.
 */
function servedRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const tree = app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: { method: string; url: string }[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const segment = match[2] ?? '';
    stack.length = depth;
    const url = (depth > 0 ? (stack[depth - 1] ?? '') : '') + segment;
    stack.push(url);
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim())) {
      if (method !== '') routes.push({ method, url });
    }
  }
  return routes;
}

/** Fastify's `/users/:id` is OpenAPI's `/users/{id}`. */
function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function documentedOperations(): { method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => methodsWithOperations.includes(method.toUpperCase()))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

describe('the document', () => {
  it('is OpenAPI 3.1.0 with info and the bearer scheme', async () => {
    const res = await t.app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });

  it('parses the served route table (sanity check of the parser)', () => {
    const routes = servedRoutes(t.app);
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    expect(keys).toContain('GET /health');
    expect(keys).toContain('GET /health/ready');
    expect(keys).toContain('POST /api/v1/auth/logout');
    expect(keys).toContain('POST /api/v1/auth/logout-all');
    expect(keys).toContain('DELETE /api/v1/auth/sessions/:id');
    expect(keys).toContain('PATCH /api/v1/users/:id');
    expect(routes.filter((r) => r.url.startsWith('/api/v1')).length).toBeGreaterThan(10);
  });

  it('documents every route Fastify serves under /api/v1, /health and /metrics', () => {
    const served = servedRoutes(t.app).filter(
      (r) =>
        methodsWithOperations.includes(r.method) &&
        (r.url.startsWith('/api/v1') ||
          r.url === '/health' ||
          r.url.startsWith('/health/') ||
          r.url === '/metrics'),
    );
    const missing = served
      .filter((r) => doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()] === undefined)
      .map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    // And the converse: nothing is documented that is not served.
    const servedKeys = new Set(served.map((r) => `${r.method} ${toOpenApiPath(r.url)}`));
    const phantom = documentedOperations()
      .map((o) => `${o.method} ${o.path}`)
      .filter((key) => !servedKeys.has(key));
    expect(phantom).toEqual([]);
  });

  it('declares the Idempotency-Key header on the creates that honour it', () => {
    const keyed = documentedOperations()
      .filter(({ op }) =>
        (op.parameters ?? []).some((p) => p.in === 'header' && p.name === 'idempotency-key'),
      )
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    expect(keyed).toEqual([
      'POST /api/v1/appointments',
      'POST /api/v1/patients',
      'POST /api/v1/patients/{id}/documents',
      'POST /api/v1/prescriptions',
    ]);
  });

  it('contains the shared schemas Problem, User and TokenPair', () => {
    for (const name of ['Problem', 'User', 'TokenPair']) {
      expect(doc.components.schemas[name], name).toMatchObject({ type: 'object' });
    }
    const required = (doc.components.schemas.Problem as { required?: string[] }).required ?? [];
    for (const field of ['type', 'title', 'status', 'detail', 'code', 'request_id']) {
      expect(required, field).toContain(field);
    }
    // The User schema must never describe a password hash.
    expect(JSON.stringify(doc.components.schemas.User)).not.toMatch(/password|hash/i);
  });

  it('has only resolvable local $refs', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref, ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop() ?? ''], ref).toBeDefined();
    }
  });
});

describe('every operation', () => {
  it('with a request body describes it with a strict JSON (or multipart form) object schema', () => {
    const withBody = documentedOperations().filter((o) => o.op.requestBody !== undefined);
    expect(withBody.length).toBeGreaterThanOrEqual(5);
    for (const { method, path, op } of withBody) {
      const content = op.requestBody?.content;
      const schema = (content?.['application/json'] ?? content?.['multipart/form-data'])?.schema;
      expect(schema, `${method} ${path}`).toMatchObject({ type: 'object' });
      expect(schema?.additionalProperties, `${method} ${path}`).toBe(false);
    }
  });

  it('with a documented body validates it (public: 400 problem; guarded: 401 first)', async () => {
    for (const { method, path, op } of documentedOperations()) {
      if (op.requestBody === undefined) continue;
      const url = path.replace(/\{[^}]+\}/g, '01a20000-0000-7000-8000-000000000000');
      const res = await t.app.inject({
        method: method as 'POST',
        url,
        payload: { definitely_not_a_field: 1 },
      });
      // Guarded routes authenticate in onRequest, before the body is even parsed.
      const expected = op.security === undefined ? 400 : 401;
      expect(res.statusCode, `${method} ${path}`).toBe(expected);
      expect(problemOf(res).code, `${method} ${path}`).toBe(
        expected === 400 ? 'validation_failed' : 'unauthorized',
      );
    }
  });

  it('documents a 2xx response with a schema (a 204 has no content)', () => {
    for (const { method, path, op } of documentedOperations()) {
      const responses = op.responses ?? {};
      const success = Object.entries(responses).filter(([status]) => /^2\d\d$/.test(status));
      expect(success.length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, response] of success) {
        if (status === '204') {
          const schema = response.content?.['application/json']?.schema as
            { type?: string } | undefined;
          expect(schema === undefined || schema.type === 'null', `${method} ${path} 204`).toBe(
            true,
          );
          continue;
        }
        // JSON for most routes; file downloads (CSV, iCalendar, PDF) under their own media type.
        const [first] = Object.values(response.content ?? {});
        expect(first?.schema, `${method} ${path} ${status}`).toBeDefined();
      }
    }
  });

  it('documents the problem responses as Problem', () => {
    for (const { method, path, op } of documentedOperations()) {
      for (const status of ['400', '500']) {
        expect(
          op.responses?.[status]?.content?.['application/json']?.schema,
          `${method} ${path} ${status}`,
        ).toEqual({ $ref: '#/components/schemas/Problem' });
      }
      // Readiness answers 503 with its own check report; everything else with a Problem.
      const unavailable = op.responses?.['503']?.content?.['application/json']?.schema;
      if (path === '/health/ready') expect(unavailable).toMatchObject({ type: 'object' });
      else
        expect(unavailable, `${method} ${path} 503`).toEqual({
          $ref: '#/components/schemas/Problem',
        });
    }
  });

  it('requires bearerAuth or the OAuth2 password flow, and documents 401/403, exactly when the route is guarded', async () => {
    let guarded = 0;
    for (const { method, path, op } of documentedOperations()) {
      const url = path.replace(/\{[^}]+\}/g, '01a20000-0000-7000-8000-000000000000');
      // Behaviour decides: a route that answers an anonymous caller with 401 is guarded, except
      // the console's cookie routes, public, whose 401 `invalid_token` says the cookie is missing.
      const res = await t.app.inject({ method: method as 'GET', url });
      const isGuarded = res.statusCode === 401 && problemOf(res).code !== 'invalid_token';
      if (isGuarded) {
        guarded++;
        expect(problemOf(res).code, `${method} ${path}`).toBe('unauthorized');
        expect(op.security, `${method} ${path}`).toEqual([
          { bearerAuth: [] },
          { oauth2Password: [] },
        ]);
        expect(Object.keys(op.responses ?? {}), `${method} ${path}`).toEqual(
          expect.arrayContaining(['401', '403']),
        );
      } else {
        expect(op.security, `${method} ${path} is public`).toBeUndefined();
      }
    }
    expect(guarded).toBeGreaterThanOrEqual(8);
  });

  it('describes path parameters in the path', () => {
    for (const { method, path, op } of documentedOperations()) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const documented = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(documented.sort(), `${method} ${path}`).toEqual(names.sort());
    }
  });
});

/** A request schema as it appears in the OpenAPI document. */
interface RequestSchema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: RequestSchema[];
  oneOf?: RequestSchema[];
  allOf?: RequestSchema[];
  items?: RequestSchema;
  properties?: Record<string, RequestSchema>;
  additionalProperties?: boolean | RequestSchema;
}

// ajv-formats grammars: the first set bounds the length; both accept only ASCII (no NUL, no
// lone surrogates).
const boundedFormats = new Set(['uuid', 'date']);
const asciiFormats = new Set(['uuid', 'date', 'date-time', 'email', 'time']);

/** A pattern is bounded when it is anchored and repeats nothing without an upper limit. */
function boundedPattern(pattern: string): boolean {
  return pattern.startsWith('^') && pattern.endsWith('$') && !/[*+]|\{\d+,\}/.test(pattern);
}

/** Probes a pattern with `bad` in every position around strings it would otherwise accept. */
function patternRefuses(pattern: string, bad: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u');
  } catch {
    return false;
  }
  const probes = ['', 'a', 'A', '1', 'abc', 'a b', 'a-1', '+1 555', 'x'.repeat(6), '123456'];
  return probes.every((probe) =>
    [bad, `${probe}${bad}`, `${bad}${probe}`, `${probe}${bad}${probe}`].every(
      (text) => !re.test(text),
    ),
  );
}

/**
 * Every string, number and array a client can send (path, query, header, body; nested
 * included) must carry its bounds, and every string must refuse NUL. Returns one line per
 * offender, e.g. `POST /api/v1/x body.notes: string without maxLength`.
 */
function lintRequestSchema(schema: RequestSchema, where: string, out: string[]): void {
  if (schema.$ref !== undefined) {
    const target = doc.components.schemas[schema.$ref.split('/').pop() ?? ''];
    lintRequestSchema(target ?? {}, where, out);
    return;
  }
  const union = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  if (union.length > 0) {
    for (const branch of union) lintRequestSchema(branch, where, out);
    return;
  }
  if (schema.const !== undefined || schema.enum !== undefined) {
    const values = schema.enum ?? [schema.const];
    const control = (c: string) => c.charCodeAt(0) < 0x20 || c === '\u007f';
    if (values.some((v) => typeof v === 'string' && Array.from(v).some(control))) {
      out.push(`${where}: enum value with a control character`);
    }
    return;
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes(undefined)) out.push(`${where}: no type (accepts anything)`);
  for (const type of types) {
    switch (type) {
      case 'string': {
        const { format, pattern } = schema;
        // A file part of a multipart form: bytes, not text (its size is checked as it streams).
        if (format === 'binary') {
          if (schema.maxLength === undefined) out.push(`${where}: file part without maxLength`);
          break;
        }
        const bounded =
          schema.maxLength !== undefined ||
          (format !== undefined && boundedFormats.has(format)) ||
          (pattern !== undefined && boundedPattern(pattern));
        if (!bounded) out.push(`${where}: string without maxLength`);
        const refuses = (...bad: string[]) =>
          (pattern !== undefined && bad.every((b) => patternRefuses(pattern, b))) ||
          (format !== undefined && asciiFormats.has(format));
        if (!refuses('\u0000')) {
          out.push(`${where}: string whose pattern/format does not refuse NUL`);
        }
        // Lone surrogates are not text; PostgreSQL's json/jsonb refuses them (a 500).
        if (!refuses('\ud800', '\udfff')) {
          out.push(`${where}: string whose pattern/format accepts lone surrogates`);
        }
        break;
      }
      case 'integer':
      case 'number':
        if (schema.minimum === undefined && schema.exclusiveMinimum === undefined) {
          out.push(`${where}: ${type} without minimum`);
        }
        if (schema.maximum === undefined && schema.exclusiveMaximum === undefined) {
          out.push(`${where}: ${type} without maximum`);
        }
        break;
      case 'array':
        if (schema.maxItems === undefined) out.push(`${where}: array without maxItems`);
        lintRequestSchema(schema.items ?? {}, `${where}[]`, out);
        break;
      case 'object':
        if (schema.additionalProperties !== false) {
          out.push(`${where}: object that accepts unknown properties`);
        }
        for (const [name, property] of Object.entries(schema.properties ?? {})) {
          lintRequestSchema(property, `${where}.${name}`, out);
        }
        break;
      case 'boolean':
      case 'null':
      case undefined:
        break;
      default:
        out.push(`${where}: unexpected type ${type}`);
    }
  }
}

describe('the request schemas (SECURITY.md "Input and limits")', () => {
  it('bound every string, number and array; every string refuses NUL and lone surrogates', () => {
    const offenders: string[] = [];
    let checked = 0;
    for (const { method, path, op } of documentedOperations()) {
      for (const param of op.parameters ?? []) {
        checked++;
        lintRequestSchema(
          param.schema ?? {},
          `${method} ${path} ${param.in}.${param.name}`,
          offenders,
        );
      }
      for (const [mediaType, content] of Object.entries(op.requestBody?.content ?? {})) {
        checked++;
        lintRequestSchema(content.schema ?? {}, `${method} ${path} body(${mediaType})`, offenders);
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(offenders).toEqual([]);
  });

  it('the lint itself catches unbounded and NUL-accepting fields', () => {
    const out: string[] = [];
    lintRequestSchema(
      {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          free: { type: 'string', maxLength: 10, pattern: '^.*$' },
          age: { type: 'integer', minimum: 0 },
          tags: { type: 'array', items: { type: 'string', maxLength: 5, format: 'uuid' } },
          nested: { type: 'object', properties: {} },
          code: { type: 'string', pattern: '^[0-9]{6}$' },
        },
      },
      'x',
      out,
    );
    expect(out).toEqual([
      'x.name: string without maxLength',
      'x.name: string whose pattern/format does not refuse NUL',
      'x.name: string whose pattern/format accepts lone surrogates',
      'x.free: string whose pattern/format does not refuse NUL',
      'x.free: string whose pattern/format accepts lone surrogates',
      'x.age: integer without maximum',
      'x.tags: array without maxItems',
      'x.nested: object that accepts unknown properties',
    ]);
  });
});

describe('the docs UI', () => {
  it('serves HTML at /docs and /docs/, and every asset it references loads', async () => {
    for (const url of ['/docs', '/docs/']) {
      const page = await t.app.inject(url);
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type'], url).toMatch(/^text\/html/);
      const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
      expect(assets.length, url).toBeGreaterThanOrEqual(3);
      expect(
        assets.some((a) => a.endsWith('.js')),
        url,
      ).toBe(true);
      // The CSP allows only same-origin scripts: no inline script may be needed.
      expect(page.body, url).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
      for (const asset of assets) {
        expect(asset, 'assets must be same-origin').not.toMatch(/^(https?:)?\/\//);
        const resolved = new URL(asset, `http://localhost${url.endsWith('/') ? url : `${url}/`}`);
        // An absolute /docs/static/... link and a ./static/... link must both resolve.
        const res = await t.app.inject(resolved.pathname);
        expect(res.statusCode, `${url} -> ${resolved.pathname}`).toBe(200);
        expect(Number(res.headers['content-length'] ?? res.rawPayload.length)).toBeGreaterThan(0);
      }
    }
  });

  it('points the UI at a document that loads', async () => {
    const initializer = await t.app.inject('/docs/static/swagger-initializer.js');
    expect(initializer.statusCode).toBe(200);
    expect(initializer.headers['content-type']).toMatch(/javascript/);
    const json = await t.app.inject('/docs/json');
    expect(json.statusCode).toBe(200);
    expect(json.json<OpenApiDoc>().openapi).toBe('3.1.0');
    expect(Object.keys(json.json<OpenApiDoc>().paths).sort()).toEqual(
      Object.keys(doc.paths).sort(),
    );
  });

  it('is absent when DOCS_ENABLED=false', async () => {
    const off = await buildTestApp({ DOCS_ENABLED: 'false' });
    try {
      expect((await off.app.inject('/docs')).statusCode).toBe(404);
      expect((await off.app.inject('/openapi.json')).statusCode).toBe(404);
      expect((await off.app.inject('/health')).statusCode).toBe(200);
    } finally {
      await off.close();
    }
  });
});
