import fc from 'fast-check';
import {
  contentTypes,
  encode,
  formBodies,
  hostileArb,
  hostileAuthorization,
  hostilePathValues,
  hostileTextArb,
  junkQueries,
  minimalValue,
  mutatedArb,
  nulProbes,
  queryScalars,
  rawJsonBodies,
  rawPathValues,
  seededBytes,
  strongPasswordArb,
  validArb,
  wrongTypeArb,
  type JsonSchema,
  type SchemaContext,
} from './fuzz-inputs.js';
import { strongPassword } from './helpers.js';
import {
  type Parameter,
  resolve,
  type Op,
  type Actor,
  sharedAdmin,
  doctor,
  loginTarget,
  type Fixtures,
  pathIdFor,
  MARK,
  type Body,
  type Input,
  send,
} from './fuzz-app.js';
import { onWorkingDay } from './working-hours.js';

/**
 * The fuzzer's inputs (fuzz.int.test.ts): valid-ish values only the app knows, the arbitraries
 * that put one hostile value in an otherwise valid request, and the NUL probes of every field.
 */
// --- valid-ish values the app alone knows ---------------------------------------------------------

function fieldValues(op: Op, fx: Fixtures): Record<string, unknown> {
  const isLogin = op.path.endsWith('/auth/login');
  const future = new Date(onWorkingDay(6, 11));
  return {
    patient_id: fx.patient,
    doctor_id: doctor.id,
    assigned_doctor_id: doctor.id,
    prescriber_id: doctor.id,
    appointment_id: fx.appointment,
    actor_id: sharedAdmin.id,
    current_password: MARK.current,
    refresh_token: MARK.refresh,
    new_password: strongPassword,
    starts_at: future.toISOString(),
    ...(isLogin ? { email: loginTarget.email, username: loginTarget.username } : {}),
  };
}

function contextFor(op: Op, fx: Fixtures): SchemaContext {
  const known = fieldValues(op, fx);
  const isLogin = op.path.endsWith('/auth/login');
  const hex = fc.string({
    unit: fc.constantFrom(...Array.from('0123456789abcdef')),
    maxLength: 12,
  });
  return {
    resolve,
    special(name, schema) {
      if (schema.type !== 'string') return undefined;
      const mostly = (value: unknown, other: fc.Arbitrary<unknown>) =>
        fc.oneof({ weight: 4, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: other });
      if (name.endsWith('_id') && typeof known[name] === 'string') {
        return mostly(known[name], fc.uuid());
      }
      switch (name) {
        case 'password':
          if (isLogin) return mostly(loginTarget.password, strongPasswordArb);
          // A new password (register, create, admin reset) or the caller's own (confirmations).
          return (schema.minLength ?? 0) >= 8 ? strongPasswordArb : fc.constant(MARK.current);
        case 'new_password':
          return strongPasswordArb;
        case 'current_password':
          return fc.constant(MARK.current);
        case 'refresh_token':
          return mostly(MARK.refresh, hex);
        case 'email':
          return isLogin || op.path.endsWith('/forgot')
            ? mostly(
                loginTarget.email,
                hex.map((h) => `f${h}@example.test`),
              )
            : undefined;
        case 'username':
          return isLogin
            ? mostly(
                loginTarget.username,
                hex.map((h) => `fz_${h}`),
              )
            : hex.map((h) => `fz_${h}x`);
        case 'starts_at':
          return (
            fc
              // Mostly within working hours (09:00-16:30 UTC); weekends are refused with 422.
              .tuple(fc.integer({ min: 1, max: 345 }), fc.integer({ min: 108, max: 198 }))
              .map(([days, slot]) => {
                const at = new Date(Date.now() + days * 86_400_000);
                at.setUTCHours(0, slot * 5, 0, 0);
                return at.toISOString();
              })
          );
        default:
          return undefined;
      }
    },
  };
}

function minimalSpecial(op: Op, fx: Fixtures) {
  const known = fieldValues(op, fx);
  return (name: string, schema: JsonSchema): unknown => {
    if (schema.type !== 'string') return undefined;
    if (name === 'password') {
      if (op.path.endsWith('/auth/login')) return loginTarget.password;
      return (schema.minLength ?? 0) >= 8 ? strongPassword : MARK.current;
    }
    return known[name];
  };
}

// --- inputs -------------------------------------------------------------------------------------

const asJson = (value: unknown): Body => ({ text: JSON.stringify(value) });

const extraHeaders = [
  'x-request-id',
  'user-agent',
  'accept',
  'accept-language',
  'accept-encoding',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'origin',
  'referer',
  'idempotency-key',
  'cookie',
  'range',
  'if-none-match',
  'host',
];
const headerValueArb = fc.oneof(
  fc.constantFrom(
    '',
    '*',
    'W/"1"',
    '"1"',
    '"v1"',
    '"abc"',
    '1',
    '"-1"',
    '" OR 1=1--',
    '*, "v1"',
    ',,,',
    'x'.repeat(201),
    'x'.repeat(8_000),
    '127.0.0.1, 10.0.0.1, ::1',
    'gzip, deflate, br;q=0',
    'bytes=0-1,2-3',
    '__proto__',
    '../../etc/passwd',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('\u0080', '\u00a0', '\u00e9', '\u00ff', 'a'), maxLength: 20 }),
);
const authorizationArb = fc.oneof(
  fc.constantFrom(...hostileAuthorization),
  fc.constantFrom(
    `Bearer ${MARK.refresh}`,
    `Bearer ${MARK.tampered}`,
    `bearer ${MARK.access}`,
    `Bearer  ${MARK.access}`,
    `Bearer ${MARK.access} x`,
    `Bearer ${MARK.access}x`,
    `Basic ${MARK.access}`,
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 200 }).map((s) => `Bearer ${s}`),
);

function queryFragments(values: Record<string, unknown>): string[] {
  return Object.entries(values).map(([k, v]) => `${encode(k)}=${encode(String(v))}`);
}

export function inputArb(op: Op, fx: Fixtures): fc.Arbitrary<Input> {
  const ctx = contextFor(op, fx);
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');
  const takesBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method);
  const ownId = pathIdFor(op.path, fx);
  const path = Object.fromEntries(pathParams.map((p) => [p.name, ownId]));
  const requiredOf = (list: Parameter[]) => list.filter((p) => p.required).map((p) => p.name);

  const base: fc.Arbitrary<Input> = fc
    .record({
      query: fc.record(
        Object.fromEntries(queryParams.map((p) => [p.name, validArb(p.schema, p.name, ctx)])),
        { requiredKeys: requiredOf(queryParams) },
      ),
      headers: fc.record(
        Object.fromEntries(
          headerParams.map((p) => [p.name, fc.constantFrom('*', '"v1"', '"v2"', 'W/"v1"')]),
        ),
        { requiredKeys: requiredOf(headerParams) },
      ),
      body: op.body ? validArb(op.body, 'body', ctx) : fc.constant(undefined),
      // A made-up pagination cursor is (rightly) a 400; most valid inputs go without one.
      keepCursor: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    })
    .map(({ query, headers, body, keepCursor }) => ({
      attack: 'valid',
      path,
      query: queryFragments(
        Object.fromEntries(Object.entries(query).filter(([k]) => keepCursor || k !== 'cursor')),
      ),
      headers,
      ...(body === undefined ? {} : { body: asJson(body) }),
    }));
  const over = <T>(
    weight: number,
    arbitrary: fc.Arbitrary<T>,
    apply: (input: Input, value: T) => Input,
  ): fc.WeightedArbitrary<Input> => ({
    weight,
    arbitrary: fc.tuple(base, arbitrary).map(([input, value]) => apply(input, value)),
  });

  const attacks: fc.WeightedArbitrary<Input>[] = [{ weight: 2, arbitrary: base }];
  if (op.body) {
    attacks.push(
      over(10, mutatedArb(op.body, 'body', ctx), (i, json) => ({
        ...i,
        attack: 'body',
        body: asJson(json),
      })),
    );
  }
  if (takesBody) {
    attacks.push(
      over(2, fc.constantFrom(...rawJsonBodies), (i, text) => ({
        ...i,
        attack: 'raw body',
        body: { text },
      })),
      over(1, fc.constantFrom(...contentTypes), (i, contentType) => ({
        ...i,
        attack: 'content-type',
        contentType,
        body: i.body ?? { text: '{}' },
      })),
      over(
        1,
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc
            .tuple(fc.constantFrom(4_096, 65_536), fc.integer())
            .map(([n, seed]) => seededBytes(n, seed)),
        ),
        (i, bytes) => ({ ...i, attack: 'bytes', body: { bytes } }),
      ),
      over(1, wrongTypeArb, (i, json) => ({
        ...i,
        attack: 'json of any shape',
        body: asJson(json),
      })),
      over(1, fc.constantFrom(...formBodies), (i, text) => ({
        ...i,
        attack: 'form',
        body: { text },
        contentType: 'application/x-www-form-urlencoded',
      })),
    );
  }
  if (pathParams.length > 0) {
    const otherIds = [fx.patient, fx.appointment, fx.prescription, fx.user, doctor.id];
    const value = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...hostilePathValues).map(encode) },
      { weight: 1, arbitrary: fc.constantFrom(...rawPathValues) },
      { weight: 2, arbitrary: fc.uuid() },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          ...otherIds.filter((id) => id !== ownId),
          ownId.toUpperCase(),
          `${ownId}%20`,
          `${ownId}%00`,
          `%20${ownId}`,
          `${ownId}.json`,
          `${ownId}/`,
          `${ownId}/..`,
          `${ownId};x=1`,
        ),
      },
      { weight: 2, arbitrary: hostileTextArb.map(encode) },
    );
    attacks.push(
      over(4, fc.tuple(fc.constantFrom(...pathParams.map((p) => p.name)), value), (i, [n, v]) => ({
        ...i,
        attack: `path ${n}`,
        path: { ...i.path, [n]: v },
      })),
    );
  }
  if (queryParams.length > 0) {
    const hostileQuery = fc.constantFrom(...queryParams).chain((p) =>
      fc.tuple(
        fc.constant(p.name),
        fc.oneof(
          fc.constantFrom(...queryScalars),
          hostileArb(p.schema, p.name, ctx).map((v) =>
            typeof v === 'string' ? v : JSON.stringify(v),
          ),
        ),
      ),
    );
    const without = (i: Input, name: string) =>
      i.query.filter((f) => !f.startsWith(`${encode(name)}=`));
    attacks.push(
      over(5, hostileQuery, (i, [n, v]) => ({
        ...i,
        attack: `query ${n}`,
        query: [...without(i, n), `${encode(n)}=${encode(v)}`],
      })),
      over(
        1,
        fc
          .constantFrom(...queryParams.map((p) => p.name))
          .chain((n) =>
            fc.constantFrom(
              `${n}=1&${n}=2`,
              `${n}[]=1`,
              `${n}[x]=1`,
              `${n}=`,
              n,
              `${n}[__proto__][polluted]=1`,
              `${n}=%`,
              `${n}=%ZZ`,
              `${n}=a%00b`,
              `${n}=${'9'.repeat(1_000)}`,
            ),
          ),
        (i, fragment) => ({ ...i, attack: 'query shape', query: [...i.query, fragment] }),
      ),
    );
  }
  attacks.push(
    over(1, fc.oneof(fc.constantFrom(...junkQueries), fc.webQueryParameters()), (i, q) => ({
      ...i,
      attack: 'junk query',
      query: [...i.query, q],
    })),
    over(
      1,
      fc.tuple(
        fc.constantFrom(...headerParams.map((p) => p.name), ...extraHeaders),
        headerValueArb,
      ),
      (i, [n, v]) => ({ ...i, attack: `header ${n}`, headers: { ...i.headers, [n]: v } }),
    ),
  );
  if (op.guarded) {
    attacks.push(
      over(1, authorizationArb, (i, authorization) => ({
        ...i,
        attack: 'authorization',
        headers: { ...i.headers, authorization },
      })),
    );
  }
  return fc.oneof(...attacks);
}

/** NUL in each string field (path, query, body; nested too): 400 naming exactly that field. */
export async function nulFailures(op: Op, fx: Fixtures, actor: Actor): Promise<string[]> {
  const ctx = contextFor(op, fx);
  const special = minimalSpecial(op, fx);
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const ownId = pathIdFor(op.path, fx);
  const path = Object.fromEntries(pathParams.map((p) => [p.name, ownId]));
  const query = Object.fromEntries(
    queryParams
      .filter((p) => p.required)
      .map((p) => [p.name, minimalValue(p.schema, p.name, ctx, special)]),
  );
  const body = op.body ? minimalValue(op.body, 'body', ctx, special) : undefined;
  const probes: { pointer: string; input: Input }[] = [];
  const plain = (): Input => ({
    attack: 'nul',
    path,
    query: queryFragments(query),
    headers: {},
    ...(body === undefined ? {} : { body: asJson(body) }),
  });
  for (const p of pathParams) {
    for (const probe of nulProbes(p.schema, `path.${p.name}`, p.name, ctx, special)) {
      probes.push({
        pointer: probe.pointer,
        input: { ...plain(), path: { ...path, [p.name]: encode(String(probe.value)) } },
      });
    }
  }
  for (const p of queryParams) {
    for (const probe of nulProbes(p.schema, `query.${p.name}`, p.name, ctx, special)) {
      probes.push({
        pointer: probe.pointer,
        input: { ...plain(), query: queryFragments({ ...query, [p.name]: probe.value }) },
      });
    }
  }
  if (op.body) {
    for (const probe of nulProbes(op.body, 'body', 'body', ctx, special)) {
      probes.push({ pointer: probe.pointer, input: { ...plain(), body: asJson(probe.value) } });
    }
  }
  const failures: string[] = [];
  for (const { pointer, input } of probes) {
    const { res } = await send(op, input, actor);
    const fields =
      res.statusCode === 400 ? (res.json<{ errors?: { field: string }[] }>().errors ?? []) : [];
    if (!fields.some((e) => e.field === pointer)) {
      failures.push(`${pointer}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
  }
  return failures;
}
