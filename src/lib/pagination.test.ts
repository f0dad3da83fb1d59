import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { decodeCursor, encodeCursor, toPage } from './pagination.js';

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Asserts that decoding fails with the documented 400, never an unexpected error. */
function expectInvalid(cursor: string, fields: readonly string[] = ['created_at', 'id']) {
  let thrown: unknown;
  try {
    decodeCursor(cursor, fields);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AppError);
  const error = thrown as AppError;
  expect(error.code).toBe('validation_failed');
  expect(error.status).toBe(400);
  expect(error.errors).toEqual([{ field: 'query.cursor', message: 'invalid cursor' }]);
}

describe('cursors', () => {
  it('round-trips a key through encode and decode', () => {
    const key = {
      created_at: '2024-05-01T10:00:00.000Z',
      id: '0190f1c2-aaaa-7bbb-8ccc-123456789abc',
    };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ['created_at', 'id'])).toEqual(key);
  });

  it('round-trips non-ASCII and URL-hostile characters', () => {
    const key = { name: 'Zoë/Ünal+?&=#, "quoted"', id: 'x' };
    expect(decodeCursor(encodeCursor(key), ['name', 'id'])).toEqual(key);
  });

  it('returns only the requested fields', () => {
    const cursor = encodeCursor({ id: 'a', extra: 'b' });
    expect(decodeCursor(cursor, ['id'])).toEqual({ id: 'a' });
  });

  it('treats an absent or empty cursor as the first page', () => {
    expect(decodeCursor(undefined, ['id'])).toBeUndefined();
    expect(decodeCursor('', ['id'])).toBeUndefined();
  });

  it('rejects garbage that is not base64url JSON', () => {
    expectInvalid('not-a-cursor');
    expectInvalid('%%%');
    expectInvalid('!!!!');
    expectInvalid(b64('{"id": "a"'));
    expectInvalid(b64('undefined'));
  });

  it('rejects JSON of the wrong shape', () => {
    expectInvalid(b64('null'));
    expectInvalid(b64('42'));
    expectInvalid(b64('"a string"'));
    expectInvalid(b64('true'));
    expectInvalid(b64('[]'));
    expectInvalid(b64('{}'));
    // A field is missing.
    expectInvalid(encodeCursor({ created_at: '2024-01-01' }));
    // A field has the wrong type.
    expectInvalid(encodeCursor({ created_at: '2024-01-01', id: 7 }));
    expectInvalid(b64(JSON.stringify({ created_at: '2024-01-01', id: null })));
    expectInvalid(b64(JSON.stringify({ created_at: '2024-01-01', id: ['a'] })));
    expectInvalid(b64(JSON.stringify({ created_at: '2024-01-01', id: { $gt: '' } })));
  });

  it('rejects an over-long field value (more than 200 characters)', () => {
    expect(decodeCursor(encodeCursor({ id: 'a'.repeat(200) }), ['id'])).toEqual({
      id: 'a'.repeat(200),
    });
    expectInvalid(encodeCursor({ id: 'a'.repeat(201) }), ['id']);
    expectInvalid(encodeCursor({ id: 'a'.repeat(100_000) }), ['id']);
  });

  it('a prototype-polluting cursor does not leak into the result', () => {
    const cursor = b64('{"__proto__": {"polluted": "yes"}, "id": "a"}');
    const decoded = decodeCursor(cursor, ['id']);
    expect(decoded).toEqual({ id: 'a' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('toPage', () => {
  const keyOf = (row: { id: string }) => ({ id: row.id });
  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}` }));

  it('with limit+1 rows returns limit items and a cursor for the last returned item', () => {
    const page = toPage(rows(4), 3, keyOf);
    expect(page.items).toEqual([{ id: 'r0' }, { id: 'r1' }, { id: 'r2' }]);
    expect(page.next_cursor).not.toBeNull();
    expect(decodeCursor(page.next_cursor ?? undefined, ['id'])).toEqual({ id: 'r2' });
  });

  it('with exactly limit rows has no next page', () => {
    const page = toPage(rows(3), 3, keyOf);
    expect(page.items).toHaveLength(3);
    expect(page.next_cursor).toBeNull();
  });

  it('with fewer rows than the limit has no next page', () => {
    expect(toPage(rows(1), 3, keyOf)).toEqual({ items: [{ id: 'r0' }], next_cursor: null });
  });

  it('with no rows returns an empty page', () => {
    expect(toPage([], 3, keyOf)).toEqual({ items: [], next_cursor: null });
  });

  it('does not mutate the input rows', () => {
    const input = rows(4);
    toPage(input, 3, keyOf);
    expect(input).toHaveLength(4);
  });
  it('applies per-field shape checks, so a value the database would reject is a 400', () => {
    const uuid = '01a208e3-cab6-772d-8783-cf66bb7e9a87';
    const isUuidLike = (value: string) => /^[0-9a-f-]{36}$/.test(value);
    expect(decodeCursor(encodeCursor({ id: uuid }), ['id'], { id: isUuidLike })).toEqual({
      id: uuid,
    });
    expect(() =>
      decodeCursor(encodeCursor({ id: 'not-a-uuid' }), ['id'], { id: isUuidLike }),
    ).toThrow(AppError);
  });
});
