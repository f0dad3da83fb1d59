import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { checkIfMatch, etagOf } from './etag.js';

function expectPreconditionFailed(header: string, version: number) {
  let thrown: unknown;
  try {
    checkIfMatch(header, version);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AppError);
  expect((thrown as AppError).code).toBe('precondition_failed');
  expect((thrown as AppError).status).toBe(412);
}

describe('etagOf', () => {
  it('is a quoted strong tag derived from the version', () => {
    expect(etagOf(1)).toBe('"v1"');
    expect(etagOf(42)).toBe('"v42"');
    expect(etagOf(1)).not.toBe(etagOf(2));
  });
});

describe('checkIfMatch', () => {
  it('accepts an absent header (no precondition)', () => {
    expect(() => {
      checkIfMatch(undefined, 3);
    }).not.toThrow();
  });

  it('accepts * for any version', () => {
    expect(() => {
      checkIfMatch('*', 1);
      checkIfMatch('*', 999);
      checkIfMatch(' * ', 5);
    }).not.toThrow();
  });

  it('accepts the matching tag', () => {
    expect(() => {
      checkIfMatch('"v3"', 3);
      checkIfMatch(etagOf(17), 17);
    }).not.toThrow();
  });

  it('refuses a weak W/ tag: If-Match uses strong comparison (RFC 9110 13.1.1)', () => {
    expectPreconditionFailed('W/"v3"', 3);
  });

  it('accepts a list that contains the current tag anywhere', () => {
    expect(() => {
      checkIfMatch('"v1", "v2", "v3"', 3);
      checkIfMatch('"v3","v9"', 3);
      checkIfMatch('W/"v1", "v3"', 3);
      checkIfMatch('"v1", *', 3);
    }).not.toThrow();
  });

  it('rejects a stale or different tag with precondition_failed', () => {
    expectPreconditionFailed('"v2"', 3);
    expectPreconditionFailed('W/"v2"', 3);
    expectPreconditionFailed('"v1", "v2"', 3);
    expectPreconditionFailed('"v30"', 3);
  });

  it('rejects malformed tags that only resemble the current one', () => {
    // Unquoted, wrong prefix, or a prefix of the real tag.
    expectPreconditionFailed('v3', 3);
    expectPreconditionFailed('3', 3);
    expectPreconditionFailed('"v"', 3);
    expectPreconditionFailed('w/"v3"x', 3);
    expectPreconditionFailed('', 3);
  });
});
