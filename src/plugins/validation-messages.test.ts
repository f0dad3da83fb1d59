import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Type, type TSchema } from 'typebox';
import { describe, expect, it } from 'vitest';
import { fieldErrors, validationDetail, type AjvIssue } from './validation-messages.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: false, strict: false }));

/** The field errors for `value` against `schema`, as the error plugin would render them. */
function errorsOf(schema: TSchema, value: unknown, context = 'body') {
  const validate = ajv.compile(schema);
  expect(validate(value)).toBe(false);
  return fieldErrors(validate.errors as AjvIssue[], context);
}

describe('fieldErrors', () => {
  it('folds a union of constants into one message listing every value', () => {
    const schema = Type.Object({
      sort: Type.Union([Type.Literal('name'), Type.Literal('-name')]),
    });
    expect(errorsOf(schema, { sort: 'x' }, 'querystring')).toEqual([
      { field: 'query.sort', message: 'must be one of: name, -name' },
    ]);
  });

  it('reports the failing constraint of a nullable value, not "or null"', () => {
    const schema = Type.Object({
      reason: Type.Union([Type.String({ maxLength: 3 }), Type.Null()]),
    });
    expect(errorsOf(schema, { reason: 'long' })).toEqual([
      { field: 'body.reason', message: 'must be at most 3 characters long' },
    ]);
    expect(errorsOf(schema, { reason: 5 })).toEqual([
      { field: 'body.reason', message: 'must be a string' },
    ]);
  });

  it('names nested and missing fields with their path, and kinds in words', () => {
    const schema = Type.Object({
      contacts: Type.Array(Type.Object({ phone: Type.String(), n: Type.Integer({ minimum: 1 }) })),
    });
    expect(errorsOf(schema, { contacts: [{ n: 1 }] })).toEqual([
      { field: 'body.contacts.0.phone', message: 'is required' },
    ]);
    expect(errorsOf(schema, { contacts: [{ phone: 'x', n: 0 }] })).toEqual([
      { field: 'body.contacts.0.n', message: 'must be at least 1' },
    ]);
    expect(errorsOf(schema, { contacts: [{ phone: 'x', n: 1.5 }] })).toEqual([
      { field: 'body.contacts.0.n', message: 'must be a whole number' },
    ]);
  });

  it('writes the detail with the field as the caller named it', () => {
    expect(
      validationDetail([
        { field: 'query.date', message: 'is required' },
        { field: 'body', message: 'must be a JSON object' },
      ]),
    ).toBe('date is required; body must be a JSON object');
  });
});
