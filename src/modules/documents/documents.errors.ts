import { AppError } from '../../lib/errors.js';

/**
 * A storage backend (or the virus scanner) that did not answer: 503 with `Retry-After`, the
 * backend's own error kept as the cause for the log (the errors plugin logs 5xx causes).
 */
export function backendUnavailable(
  code: 'storage_unavailable' | 'scanner_unavailable',
  message: string,
  cause: unknown,
): AppError {
  return new AppError(code, message, { headers: { 'retry-after': '30' }, cause });
}
