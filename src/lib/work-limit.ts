import pLimit from 'p-limit';
import { AppError } from './errors.js';

export interface WorkLimit {
  <T>(job: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

/**
 * Runs at most `concurrency` jobs at once; up to `maxWaiting` more wait their turn, and any
 * beyond that are refused with 503 and Retry-After: overload answers 503 rather than queueing
 * forever (SECURITY.md, resilience).
 */
export function workLimit(concurrency: number, maxWaiting: number): WorkLimit {
  const limit = pLimit(concurrency);
  const run = <T>(job: () => Promise<T>): Promise<T> => {
    if (limit.pendingCount >= maxWaiting) {
      return Promise.reject(
        new AppError('service_unavailable', 'The server is busy; retry shortly', {
          headers: { 'retry-after': '1' },
        }),
      );
    }
    return limit(job);
  };
  return Object.defineProperties(run as WorkLimit, {
    active: { get: () => limit.activeCount },
    waiting: { get: () => limit.pendingCount },
  });
}
