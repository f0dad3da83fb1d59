import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isUniqueViolation, sqlState } from './db-errors.js';

/** As Drizzle reports a failed query: its own error, with the driver's error as the cause. */
function wrapped(cause: unknown): Error {
  return new Error('Failed query: select 1', { cause });
}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
}

describe('isDatabaseUnavailable', () => {
  it.each([
    ['refused', socketError('ECONNREFUSED')],
    ['reset', socketError('ECONNRESET')],
    ['broken pipe (a five-letter code that is not a SQLSTATE)', socketError('EPIPE')],
    ['host unreachable', socketError('EHOSTUNREACH')],
    ['server gone mid-query', new Error('Connection terminated unexpectedly')],
    ['frozen server on connect', new Error('Connection terminated due to connection timeout')],
    ['no free pooled connection', new Error('timeout exceeded when trying to connect')],
    ['frozen server on a query', new Error('Query read timeout')],
    [
      'dead client reused',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['pool closed by shutdown', new Error('Cannot use a pool after calling end on the pool')],
    [
      'admin shutdown (57P01)',
      Object.assign(new Error('terminating connection'), { code: '57P01' }),
    ],
    [
      'starting up (57P03)',
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    ],
    [
      'statement timeout (57014)',
      Object.assign(new Error('canceling statement'), { code: '57014' }),
    ],
    [
      'connection exception (08006)',
      Object.assign(new Error('connection failure'), { code: '08006' }),
    ],
    [
      'too many connections (53300)',
      Object.assign(new Error('too many clients'), { code: '53300' }),
    ],
  ])('is true for %s, also behind a Drizzle wrapper', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDatabaseUnavailable(wrapped(error))).toBe(true);
  });

  it('is false for errors that are the request’s or the code’s fault', () => {
    const unique = Object.assign(new Error('duplicate key'), { code: '23505' });
    // A server error whose message quotes user input must not pass for an outage.
    const syntax = Object.assign(new Error('invalid input: "Connection terminated"'), {
      code: '22P02',
    });
    for (const error of [unique, syntax, new Error('boom'), 'text', null, undefined]) {
      expect(isDatabaseUnavailable(error)).toBe(false);
      expect(isDatabaseUnavailable(wrapped(error))).toBe(false);
    }
    expect(isUniqueViolation(wrapped(unique))).toBe(true);
  });

  it('reads a SQLSTATE but not a socket code', () => {
    expect(sqlState(wrapped(Object.assign(new Error('x'), { code: '57P01' })))).toBe('57P01');
    expect(sqlState(socketError('EPIPE'))).toBeUndefined();
  });
});
