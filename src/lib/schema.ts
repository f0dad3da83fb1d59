import { Type, type TObject, type TProperties, type TSchema } from 'typebox';

/**
 * Shared TypeBox building blocks. Every string is bounded and refuses control characters
 * (NUL and friends); free text may keep tab and newlines. Every object rejects unknown keys.
 * Lone UTF-16 surrogates (`"\ud800"` in JSON) are refused too: they are not Unicode text, and
 * PostgreSQL's json/jsonb rejects them (a 500 found by the fuzzer). Ajv matches patterns with
 * the `u` flag, so a well-formed surrogate pair (an emoji) is one code point and still passes.
 */
const noControlChars = '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$';
const noControlCharsExceptWhitespace =
  '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\ud800-\\udfff]*$';

// Same, and at least one visible character: names and drug names cannot be blank.
const nonBlankNoControlChars = '^(?=.*\\S)[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$';

export function Str(options: {
  minLength?: number;
  maxLength: number;
  description?: string;
  nonBlank?: boolean;
}) {
  const { nonBlank = false, ...rest } = options;
  return Type.String({
    minLength: 0,
    pattern: nonBlank ? nonBlankNoControlChars : noControlChars,
    ...rest,
  });
}

/** Multi-line free text (notes, history): newlines and tabs allowed, other control chars not. */
export function Text(options: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ pattern: noControlCharsExceptWhitespace, ...options });
}

export function StrictObject<T extends TProperties>(
  properties: T,
  options: object = {},
): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const Timestamp = Type.String({ format: 'date-time' });
/** A timestamp the client sends: RFC 3339 and bounded (services still parse it: lib/timestamps). */
export const DateTimeInput = Type.String({ format: 'date-time', maxLength: 40 });

/** The schema or null. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
export const Password = Type.String({ minLength: 8, maxLength: 128, pattern: noControlChars });
export const Username = Type.String({ minLength: 3, maxLength: 50, pattern: '^[A-Za-z0-9_.-]+$' });

export const IdParams = StrictObject({ id: Uuid });

/** The optional If-Match precondition of a conditional write (PATCH, DELETE): `lib/etag.ts`. */
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Str({ maxLength: 200 })),
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    ),
    conflicting_appointment_id: Type.Optional(
      Type.String({ description: 'On a booking conflict (409): the appointment in the way' }),
    ),
    duplicate_patient_id: Type.Optional(
      Type.String({
        description: 'On a likely duplicate person (409 from POST /patients): the existing patient',
      }),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]*$' })),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  });
}

/** Error responses documented on every route; listed once so the OpenAPI stays honest. */
export function problemResponses(...statuses: number[]) {
  const ref = Type.Ref('Problem');
  return Object.fromEntries(statuses.map((status) => [status, ref]));
}
