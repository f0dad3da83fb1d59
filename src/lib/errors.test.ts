import { describe, expect, it } from 'vitest';
import {
  AppError,
  fieldError,
  forbidden,
  mustExist,
  notFound,
  stale,
  toProblem,
  type FieldError,
} from './errors.js';

/** What the error plugin sends for an AppError (request id fixed). */
function wire(error: AppError) {
  return toProblem(error.code, error.message, 'req-1', error.errors, error.extensions);
}

describe('error factories', () => {
  it('notFound: 404 "No such <thing>", the same wire form as the inline construction', () => {
    const error = notFound('user');
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'not_found', status: 404, message: 'No such user' });
    expect(wire(error)).toEqual(wire(new AppError('not_found', 'No such user')));
    expect(wire(notFound('live session'))).toEqual({
      type: 'urn:medcore:problem:not_found',
      title: 'Not found',
      status: 404,
      detail: 'No such live session',
      code: 'not_found',
      request_id: 'req-1',
    });
  });

  it('stale: 412 "The <thing> changed since you read it"', () => {
    const error = stale('patient');
    expect(error).toMatchObject({
      code: 'precondition_failed',
      status: 412,
      message: 'The patient changed since you read it',
    });
    expect(wire(error)).toEqual(
      wire(new AppError('precondition_failed', 'The patient changed since you read it')),
    );
    expect(wire(error).errors).toBeUndefined();
  });

  it("forbidden: 403, by default in the permission table's words", () => {
    expect(forbidden()).toMatchObject({
      code: 'forbidden',
      status: 403,
      message: 'Your role does not allow this action',
    });
    expect(forbidden('Only the owner may change or delete a prompt').message).toBe(
      'Only the owner may change or delete a prompt',
    );
  });

  it('fieldError: 400 validation_failed naming one field', () => {
    const error = fieldError('body.current_password', 'is incorrect', 'The password is wrong');
    const inline = new AppError('validation_failed', 'The password is wrong', {
      errors: [{ field: 'body.current_password', message: 'is incorrect' }],
    });
    expect(error).toMatchObject({ code: 'validation_failed', status: 400 });
    expect(error.errors).toEqual<FieldError[]>([
      { field: 'body.current_password', message: 'is incorrect' },
    ]);
    expect(wire(error)).toEqual(wire(inline));
    expect(error.cause).toBeUndefined();
    expect(error.headers).toEqual({});
  });

  it('fieldError: another code and a cause when given', () => {
    const cause = new Error('unique violation');
    const error = fieldError('body.email', 'already used', 'Taken', { code: 'conflict', cause });
    expect(error).toMatchObject({ code: 'conflict', status: 409, message: 'Taken', cause });
    expect(wire(error).errors).toEqual([{ field: 'body.email', message: 'already used' }]);
  });

  it('each call builds a new error (a thrown error is never shared between requests)', () => {
    expect(notFound('user')).not.toBe(notFound('user'));
    expect(fieldError('body.a', 'b', 'c').errors).not.toBe(fieldError('body.a', 'b', 'c').errors);
  });
});

describe('mustExist', () => {
  it('turns a 404 of the loader into a 422 on the body field', async () => {
    const thrown = await mustExist('patient_id', () => Promise.reject(notFound('patient'))).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(AppError);
    expect(wire(thrown as AppError)).toMatchObject({
      status: 422,
      code: 'unprocessable',
      detail: 'patient_id does not name a known record',
      errors: [{ field: 'body.patient_id', message: 'not found' }],
    });
  });

  it('passes other errors through and resolves when the record exists', async () => {
    const other = forbidden();
    await expect(mustExist('patient_id', () => Promise.reject(other))).rejects.toBe(other);
    await expect(mustExist('patient_id', () => Promise.resolve({}))).resolves.toBeUndefined();
  });
});
