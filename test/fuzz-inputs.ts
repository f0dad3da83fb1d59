import fc from 'fast-check';

/**
 * fast-check arbitraries derived from the OpenAPI document's JSON schemas, for the hostile-input
 * fuzzer (test/fuzz.int.test.ts): valid-ish values that pass the schema, and the same values
 * with one leaf replaced by something hostile. Nothing here knows about MedCore's routes; the
 * caller supplies the few values only the running app can know (ids, credentials).
 */

export interface JsonSchema {
  $ref?: string;
  type?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
}

export interface SchemaContext {
  resolve(schema: JsonSchema): JsonSchema;
  /** A valid-ish value for a named field that only the app can know (ids, credentials). */
  special(name: string, schema: JsonSchema): fc.Arbitrary<unknown> | undefined;
}

// --- catalogues of hostile values ------------------------------------------------------------

export const controlChars = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\u000b',
  '\f',
  '\r',
  '\u001b',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
];

export const unicodeOddities = [
  '\ud800',
  '\udfff',
  '\udfff\ud800',
  '\uffff',
  '\ufffe',
  '\u202e',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\u00a0',
  '\u3000',
  '\u0301',
  'e\u0301',
  'İ',
  'ß',
  'ﬁ',
  'Ａ',
  '山',
  '🩺',
  '👩🏽‍⚕️',
  '𝔘',
  'Z̷̢̛͔a̶͎͝',
];

export const sqlish = [
  "' OR 1=1--",
  "'; DROP TABLE users;--",
  '" OR ""="',
  "admin'--",
  "1' UNION SELECT password FROM users--",
  "'); SELECT pg_sleep(5);--",
  '\\',
  "%' AND 1=1 AND '%'='",
  '$1',
  "E'\\x00'",
];

export const payloads = [
  ...sqlish,
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '#{7*7}',
  '__proto__',
  'constructor',
  'constructor.prototype',
  '__proto__.polluted',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '..%2f..%2f',
  '%2e%2e%2f',
  '/dev/zero',
  'file:///etc/passwd',
  '%00',
  '%',
  '%s%s%s%n',
  'a\r\nSet-Cookie: x=1',
  '=cmd|/c calc!A1',
  '@SUM(1+1)',
  '{"$gt":""}',
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '-0',
  '0x1F',
  'null',
  'undefined',
  'true',
];

export const hostileStrings = [
  '',
  ' ',
  '   ',
  '0',
  '123',
  '-1',
  'false',
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u0003',
  '\u001b[2J',
  '\u007f',
  'line\r\nbreak',
  'tab\there',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🩺👩🏽‍⚕️',
  'İıŞş ß ﬁ',
  'ß'.repeat(200),
  '🩺'.repeat(150),
  'x'.repeat(255),
  'x'.repeat(10_000),
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  'ADMIN',
  'admin ',
  '2026-02-30T25:61:61Z',
  '0000-00-00',
  '9999-12-31T23:59:59.999999999Z',
  'user@',
  '@example.test',
  'a@b',
  `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`,
  ...unicodeOddities,
  ...payloads,
];

/** Whole bodies as raw text, sent as application/json. */
export const rawJsonBodies = [
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
  '',
];

export const contentTypes = [
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zzz',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=utf-8; x=y',
  'application/vnd.api+json',
  'application/problem+json',
  'APPLICATION/JSON',
  'application/json, text/plain',
  '*/*',
  '',
];

export const formBodies = [
  'email=a%40b.co&password=x&__proto__[polluted]=1&grant_type=password',
  'username=a%00b&password=%01%02&grant_type=password',
  'a[b][c][d][e][f]=1&a[b][c][d][e][f]=2',
  '%=%&%ZZ=1',
  `x=${'y'.repeat(10_000)}`,
];

export const hostilePathValues = [
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
export const rawPathValues = [
  '%',
  '%ZZ',
  '%00',
  '%2e%2e',
  '..%2f..%2fetc',
  '%E0%A4%A',
  '%C0%AE',
  'a%20b',
  '%u0000',
  '%252e%252e',
];

export const hostileAuthorization = [
  'Bearer',
  'Bearer ',
  'Bearer x',
  'Bearer null',
  'bearer a.b.c',
  'Basic YWRtaW46YWRtaW4=',
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.',
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0',
  'Bearer ' + 'a'.repeat(5_000),
  'Bearer ' + 'a.'.repeat(100),
  "Bearer ' OR 1=1--",
  'Token abc',
  'Bearer a.b.c, Bearer d.e.f',
];

export const queryScalars = [
  ...hostileStrings,
  '1.5',
  '1e3',
  '101',
  '-0',
  '0x10',
  '1,2',
  ' 1',
  '+1',
  '01',
  '9'.repeat(400),
  'TRUE',
  'yes',
  'on',
];

export const junkQueries = [
  '__proto__[polluted]=1',
  '__proto__=1',
  'constructor[prototype][polluted]=1',
  'unknown=1',
  '%',
  '%ZZ=%ZZ',
  `a=${'x'.repeat(10_000)}`,
  '&&&=&=',
  `${'k'.repeat(2_000)}=v`,
  Array.from({ length: 500 }, (_, i) => `k${i}=v`).join('&'),
  'a=1;b=2',
  '=',
  '?',
  '#frag',
];

export const pollutionKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'extra',
  '',
  'a'.repeat(300),
  'first_name\u0000',
];

/** `n` pseudo-random bytes from a seed (fast-check would draw 65,536 integers one by one). */
export function seededBytes(n: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return bytes;
}

// --- helpers ---------------------------------------------------------------------------------

export function deepObject(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

export function deepArray(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Sets an own property, so that `__proto__` becomes a real key that JSON.stringify sends. */
export function withOwnKey(object: unknown, key: string, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> =
    typeof object === 'object' && object !== null && !Array.isArray(object) ? { ...object } : {};
  Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
  return copy;
}

/** encodeURIComponent, except that lone surrogates go out as the UTF-8 of U+FFFD. */
export function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...Buffer.from(value, 'utf8')]
      .map((b) => `%${b.toString(16).padStart(2, '0')}`)
      .join('');
  }
}

/** Ajv counts code points, not UTF-16 units. */
function codePoints(value: string): number {
  return Array.from(value).length;
}

function insertAt(value: string, insert: string, position: number): string {
  const at = position % (value.length + 1);
  return value.slice(0, at) + insert + value.slice(at);
}

const hex = (length: number) =>
  fc.string({
    unit: fc.constantFrom(...Array.from('0123456789abcdef')),
    minLength: length,
    maxLength: length,
  });

/** A strong, fresh password (the strength check must pass for the handler to run on). */
export const strongPasswordArb = fc.tuple(hex(12), hex(12)).map(([a, b]) => `Fz ${a} ${b}`);

const fillChars = ['a', '1', 'x', 'A', 'é', '山', '🩺', 'e\u0301'];

function compiled(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

/** Characters that, repeated, satisfy the schema's pattern (so only the length is at stake). */
function fillsFor(schema: JsonSchema): string[] {
  const re = compiled(schema.pattern);
  if (re === undefined) return fillChars;
  const ok = fillChars.filter((c) => re.test(c.repeat(Math.max(schema.minLength ?? 1, 6))));
  return ok.length > 0 ? ok : ['x'];
}

const hostileUnit = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...controlChars,
      ...unicodeOddities,
      ...Array.from(`'"\\/%<>{}$\`;&|*?#=+`),
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);

export const hostileTextArb = fc.string({ unit: hostileUnit, maxLength: 40 });

// --- valid-ish values --------------------------------------------------------------------------

const dayMs = 86_400_000;
const dateArb = fc
  .integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) })
  .map((ms) => new Date(ms));

function validString(schema: JsonSchema): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date':
      return dateArb.map((d) => d.toISOString().slice(0, 10));
    case 'date-time':
      return fc.oneof(
        dateArb.map((d) => d.toISOString()),
        // Valid by the format, unusable by JavaScript or PostgreSQL: leap seconds, year 0000.
        fc.constantFrom(
          '2016-12-31T23:59:60Z',
          '0000-01-01T00:00:00Z',
          '9999-12-31T23:59:59+00:00',
          '2030-01-01T00:00:00-23:59',
        ),
        fc
          .integer({ min: 1, max: 360 })
          .map((days) => new Date(Date.now() + days * dayMs).toISOString().slice(0, 19) + '+02:00'),
      );
    case 'email':
      return hex(10).map((h) => `f${h}@example.test`);
    case undefined:
    default:
      break;
  }
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 64;
  const re = compiled(schema.pattern);
  const short = Math.min(max, 40);
  const options: fc.Arbitrary<string>[] = [];
  if (re === undefined || re.test('Zé山🩺 a')) {
    options.push(fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.max(min, short) }));
  }
  if (re !== undefined && schema.pattern !== undefined) {
    // fast-check cannot generate lookaheads; the filter below re-applies the full pattern.
    const stripped = compiled(schema.pattern.replace(/\(\?=[^)]*\)/g, ''));
    if (stripped !== undefined) {
      try {
        options.push(fc.stringMatching(stripped, { maxLength: Math.max(min, short) }));
      } catch {
        // Unsupported regex syntax: the fills below still give valid values.
      }
    }
  }
  // Exactly at the bounds, which must still be accepted.
  for (const fill of fillsFor(schema)) {
    options.push(fc.constantFrom(fill.repeat(Math.max(min, 1)), fill.repeat(max)));
  }
  return fc
    .oneof(...options)
    .filter(
      (v) => (re === undefined || re.test(v)) && codePoints(v) >= min && codePoints(v) <= max,
    );
}

/** A value the schema accepts: odd where the schema allows it, so handlers see odd inputs too. */
const validCache = new WeakMap<
  SchemaContext,
  Map<JsonSchema, Map<string, fc.Arbitrary<unknown>>>
>();

export function validArb(raw: JsonSchema, name: string, ctx: SchemaContext): fc.Arbitrary<unknown> {
  // Arbitraries are built once per schema node and field name (building them is the slow part).
  let bySchema = validCache.get(ctx);
  if (!bySchema)
    validCache.set(ctx, (bySchema = new Map<JsonSchema, Map<string, fc.Arbitrary<unknown>>>()));
  let byName = bySchema.get(raw);
  if (!byName) bySchema.set(raw, (byName = new Map<string, fc.Arbitrary<unknown>>()));
  let arbitrary = byName.get(name);
  if (!arbitrary) byName.set(name, (arbitrary = buildValidArb(raw, name, ctx)));
  return arbitrary;
}

function buildValidArb(raw: JsonSchema, name: string, ctx: SchemaContext): fc.Arbitrary<unknown> {
  const schema = ctx.resolve(raw);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => validArb(s, name, ctx)));
  const special = ctx.special(name, schema);
  if (special) return special;
  switch (schema.type) {
    case 'string':
      return validString(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000, max: schema.maximum ?? 1_000 });
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1_000,
        max: schema.maximum ?? 1_000,
        noNaN: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validArb(schema.items ?? {}, name, ctx), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const model = Object.fromEntries(
        Object.entries(properties).map(([key, s]) => [key, validArb(s, key, ctx)]),
      );
      return fc.record(model, { requiredKeys: schema.required ?? [] });
    }
    case undefined:
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// --- hostile values ----------------------------------------------------------------------------

const jsonish: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53,
  1e308,
  [],
  [null],
  ['a'],
  {},
  { $gt: '' },
  { $ne: null },
  { toString: 'x' },
];

/** A value of the wrong type: JSON of any shape, deep nesting, polluting keys. */
export const wrongTypeArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...jsonish) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 1_000 }).map(deepObject) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 1_000 }).map(deepArray) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...pollutionKeys), fc.jsonValue({ maxDepth: 1 }))
      .map(([key, value]) => withOwnKey({}, key, { polluted: true, value })),
  },
);

function hostileString(schema: JsonSchema, valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const max = schema.maxLength ?? 255;
  const min = schema.minLength ?? 0;
  const lengths = [max, max + 1, max * 2 + 1, 70_000, ...(min > 0 ? [min - 1] : [])];
  const validText = valid.map((v) => (typeof v === 'string' ? v : 'abc'));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...hostileStrings) },
    {
      // One hostile character dropped into an otherwise valid value.
      weight: 3,
      arbitrary: fc.tuple(validText, hostileUnit, fc.nat()).map(([v, c, at]) => insertAt(v, c, at)),
    },
    {
      // Just at and past the bounds, with characters the pattern accepts.
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...lengths), fc.constantFrom(...fillsFor(schema)))
        .map(([n, c]) => c.repeat(n)),
    },
    { weight: 2, arbitrary: hostileTextArb },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validText, fc.constantFrom(...payloads))
        .map(([v, payload]) => v + payload),
    },
    { weight: 1, arbitrary: wrongTypeArb },
  );
}

function hostileNumber(schema: JsonSchema): fc.Arbitrary<unknown> {
  const lo = schema.minimum ?? -(2 ** 31);
  const hi = schema.maximum ?? 2 ** 31;
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        lo - 1,
        hi + 1,
        lo,
        hi,
        lo - 0.5,
        hi + 0.5,
        0,
        -0,
        -1,
        1.5,
        2 ** 31,
        -(2 ** 31) - 1,
        2 ** 53,
        Number.MAX_SAFE_INTEGER + 2,
        1e308,
        -1e308,
        5e-324,
      ),
    },
    { weight: 2, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    {
      // Numbers as strings: bodies are not coerced, so these are the wrong type.
      weight: 2,
      arbitrary: fc.constantFrom('1', '0', 'NaN', 'Infinity', '1e3', '0x10', ' 1', String(hi + 1)),
    },
    { weight: 1, arbitrary: wrongTypeArb },
  );
}

/** A hostile value for one field: wrong type, out of range, overlong, control characters... */
export function hostileArb(
  raw: JsonSchema,
  name: string,
  ctx: SchemaContext,
): fc.Arbitrary<unknown> {
  const schema = ctx.resolve(raw);
  if (schema.anyOf) {
    const first = schema.anyOf.find((s) => ctx.resolve(s).type !== 'null') ?? {};
    return hostileArb(first, name, ctx);
  }
  if (schema.enum || schema.const !== undefined) {
    const values = (schema.enum ?? [schema.const]).map(String);
    return fc.oneof(
      fc.constantFrom(
        ...values.flatMap((v) => [v.toUpperCase(), ` ${v}`, `${v}\u0000`, `${v}s`, v.slice(1)]),
      ),
      hostileString({ maxLength: 50 }, fc.constantFrom(...values)),
    );
  }
  switch (schema.type) {
    case 'string':
      return hostileString(schema, validArb(schema, name, ctx));
    case 'integer':
    case 'number':
      return hostileNumber(schema);
    case 'boolean':
      return fc.oneof(fc.constantFrom('true', 'false', '1', 0, 1, 'yes', ''), wrongTypeArb);
    case 'array': {
      const item = validArb(schema.items ?? {}, name, ctx);
      const tooMany = (schema.maxItems ?? 100) + 1;
      return fc.oneof(
        item.map((v) => Array.from({ length: tooMany }, () => v)),
        fc.constant(Array.from({ length: 10_000 }, () => null)),
        wrongTypeArb,
      );
    }
    case undefined:
    default:
      return wrongTypeArb;
  }
}

/**
 * A valid value with exactly one hostile spot: one property (at any depth) replaced, dropped
 * when required, or an extra key added; or the whole value replaced.
 */
export function mutatedArb(
  raw: JsonSchema,
  name: string,
  ctx: SchemaContext,
  depth = 0,
): fc.Arbitrary<unknown> {
  const schema = ctx.resolve(raw);
  const whole = hostileArb(schema, name, ctx);
  if (depth > 4) return whole;
  if (schema.anyOf) {
    const branches = schema.anyOf.filter((s) => ctx.resolve(s).type !== 'null');
    return fc.oneof(whole, ...branches.map((s) => mutatedArb(s, name, ctx, depth)));
  }
  if (schema.type === 'array' && schema.items) {
    const items = schema.items;
    return fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            fc.array(validArb(items, name, ctx), { maxLength: 2 }),
            mutatedArb(items, name, ctx, depth + 1),
            fc.nat(),
          )
          .map(([list, bad, at]) => {
            const copy = [...list];
            copy.splice(at % (copy.length + 1), 0, bad);
            return copy;
          }),
      },
      { weight: 1, arbitrary: whole },
    );
  }
  if (schema.type !== 'object') return whole;
  const properties = schema.properties ?? {};
  const keys = Object.keys(properties);
  const required = schema.required ?? [];
  const base = validArb(schema, name, ctx);
  const options: fc.WeightedArbitrary<unknown>[] = [
    {
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.constantFrom(...pollutionKeys), fc.oneof(wrongTypeArb, hostileTextArb))
        .map(([value, key, extra]) => withOwnKey(value, key, extra)),
    },
    { weight: 1, arbitrary: whole },
  ];
  if (keys.length > 0) {
    const perKey = keys.map((key) =>
      fc
        .tuple(base, mutatedArb(properties[key] ?? {}, key, ctx, depth + 1))
        .map(([value, bad]) => withOwnKey(value, key, bad)),
    );
    options.push({ weight: 8, arbitrary: fc.oneof(...perKey) });
  }
  if (required.length > 0) {
    options.push({
      weight: 1,
      arbitrary: fc.tuple(base, fc.constantFrom(...required)).map(([value, key]) => {
        return Object.fromEntries(
          Object.entries(value as Record<string, unknown>).filter(([k]) => k !== key),
        );
      }),
    });
  }
  return fc.oneof(...options);
}

// --- deterministic probes ------------------------------------------------------------------------

/**
 * A minimal valid value: required properties only, each the plainest thing the schema accepts.
 * `special` supplies app-known values (ids, credentials) by field name.
 */
export function minimalValue(
  raw: JsonSchema,
  name: string,
  ctx: SchemaContext,
  special: (name: string, schema: JsonSchema) => unknown,
): unknown {
  const schema = ctx.resolve(raw);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) {
    const first = schema.anyOf.find((s) => ctx.resolve(s).type !== 'null') ?? {};
    return minimalValue(first, name, ctx, special);
  }
  const known = special(name, schema);
  if (known !== undefined) return known;
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'uuid') return '01a20000-0000-7000-8000-000000000000';
      if (schema.format === 'date') return '1980-01-01';
      if (schema.format === 'date-time') return new Date(Date.now() + 7 * dayMs).toISOString();
      if (schema.format === 'email') return 'fuzz@example.test';
      const re = compiled(schema.pattern);
      const min = schema.minLength ?? 0;
      for (const fill of fillChars) {
        for (const n of [Math.max(min, 3), Math.max(min, 1), 6, 8, min]) {
          const value = fill.repeat(Math.min(n, schema.maxLength ?? n));
          if ((re === undefined || re.test(value)) && codePoints(value) >= min) return value;
        }
      }
      return 'a';
    }
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, Math.min(schema.maximum ?? 1, 1));
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () =>
        minimalValue(schema.items ?? {}, name, ctx, special),
      );
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((key) => [
          key,
          minimalValue(schema.properties?.[key] ?? {}, key, ctx, special),
        ]),
      );
    case undefined:
    default:
      return null;
  }
}

/**
 * For every string leaf of a schema (nested objects and arrays included), a minimal valid value
 * with NUL in that one leaf, and the field pointer the 400 must name (`body.a.0.b`).
 */
export function nulProbes(
  raw: JsonSchema,
  pointer: string,
  name: string,
  ctx: SchemaContext,
  special: (name: string, schema: JsonSchema) => unknown,
): { pointer: string; value: unknown }[] {
  const schema = ctx.resolve(raw);
  if (schema.const !== undefined || schema.enum) {
    return [{ pointer, value: `${String(schema.enum?.[0] ?? schema.const)}\u0000` }];
  }
  if (schema.anyOf) {
    const branch = schema.anyOf.find((s) => ctx.resolve(s).type !== 'null');
    return branch ? nulProbes(branch, pointer, name, ctx, special) : [];
  }
  switch (schema.type) {
    case 'string':
      return [{ pointer, value: 'a\u0000b' }];
    case 'array':
      return nulProbes(schema.items ?? {}, `${pointer}.0`, name, ctx, special).map((p) => ({
        pointer: p.pointer,
        value: [p.value],
      }));
    case 'object': {
      const base = minimalValue(schema, name, ctx, special) as Record<string, unknown>;
      return Object.entries(schema.properties ?? {}).flatMap(([key, property]) =>
        nulProbes(property, `${pointer}.${key}`, key, ctx, special).map((p) => ({
          pointer: p.pointer,
          value: { ...base, [key]: p.value },
        })),
      );
    }
    case undefined:
    default:
      return [];
  }
}
