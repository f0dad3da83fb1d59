import { describe, expect, it } from 'vitest';
import { ApiError, dataOrThrow, fieldErrors, problemText, showFieldErrors } from './problem';

const problem = {
  type: 'https://medcore.dev/problems/validation_failed',
  title: 'Validation failed',
  status: 400,
  code: 'validation_failed',
  detail: 'last_name is required',
  request_id: 'r1',
  errors: [
    { field: 'body.last_name', message: 'last_name is required' },
    { field: 'body.emergency_contacts.0.phone', message: 'phone is not a phone number' },
    { field: 'query.date', message: 'date must be a date' },
    { field: 'body.last_name', message: 'last_name is too long' },
  ],
};

describe('fieldErrors', () => {
  it('keys messages by the form field, without the location prefix, joining repeats', () => {
    expect(fieldErrors(problem)).toEqual({
      last_name: 'last_name is required; last_name is too long',
      'emergency_contacts.0.phone': 'phone is not a phone number',
      date: 'date must be a date',
    });
  });

  it('is empty for anything that is not a problem, or a problem without errors', () => {
    expect(fieldErrors(undefined)).toEqual({});
    expect(fieldErrors(new Error('x'))).toEqual({});
    expect(fieldErrors({ ...problem, errors: undefined })).toEqual({});
  });
});

describe('problemText', () => {
  it('shows the detail, else the title, else the fallback', () => {
    expect(problemText(problem, 'fallback')).toBe('last_name is required');
    expect(problemText({ ...problem, detail: '' }, 'fallback')).toBe('Validation failed');
    expect(problemText(new TypeError('Failed to fetch'), 'fallback')).toBe('fallback');
  });
});

describe('dataOrThrow', () => {
  it('returns data, or throws an ApiError with the problem and status', () => {
    const response = new Response(null, { status: 400 });
    expect(dataOrThrow({ data: { a: 1 }, response })).toEqual({ a: 1 });
    let thrown: unknown;
    try {
      dataOrThrow({ error: problem, response });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).status).toBe(400);
    expect((thrown as ApiError).problem?.code).toBe('validation_failed');
  });
});

describe('showFieldErrors', () => {
  it("sets the API's messages on the form's own fields only", () => {
    const set: [string, string][] = [];
    showFieldErrors(
      new ApiError(400, problem as never),
      ['last_name', 'first_name'] as const,
      (name, { message }) => set.push([name, message]),
    );
    expect(set).toEqual([['last_name', 'last_name is required; last_name is too long']]);
  });

  it('ignores anything that is not an API answer', () => {
    const set: string[] = [];
    showFieldErrors(new Error('network'), ['last_name'] as const, (name) => set.push(name));
    expect(set).toEqual([]);
  });
});
