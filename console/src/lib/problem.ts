import { isProblem, type Problem } from '@medcore/client';

/**
 * Field-level messages of a problem+json answer, keyed by the form field they concern: the API
 * names fields as sent (`body.last_name`, `query.date`, `body.emergency_contacts.0.phone`); the
 * form knows them without the location prefix (`last_name`, `emergency_contacts.0.phone`).
 * Several messages for one field are joined.
 */
export function fieldErrors(problem: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isProblem(problem)) return out;
  for (const { field, message } of problem.errors ?? []) {
    const name = field.replace(/^(body|query|path|headers?)[./]/, '').replace(/\//g, '.');
    out[name] = out[name] ? `${out[name]}; ${message}` : message;
  }
  return out;
}

/**
 * Shows an API error's field messages on the form fields that carry them (react-hook-form's
 * `setError`); messages for fields the form does not have are left to the form's own alert.
 */
export function showFieldErrors<F extends string>(
  error: unknown,
  names: readonly F[],
  setError: (name: F, error: { message: string }) => void,
): void {
  if (!(error instanceof ApiError)) return;
  for (const [field, message] of Object.entries(fieldErrors(error.problem))) {
    const known = names.find((name) => name === field);
    if (known) setError(known, { message });
  }
}

/**
 * The words to show for a failed call: the problem's `detail` (the API writes it for people),
 * else its title; a network failure or anything else that is not a problem gets `fallback`.
 */
export function problemText(problem: unknown, fallback: string): string {
  if (isProblem(problem)) return problem.detail || problem.title;
  return fallback;
}

/** A thrown answer: what query functions throw so react-query reports the problem. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

/** The data of a typed-client answer, or an ApiError carrying the problem. */
export function dataOrThrow<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data !== undefined) return result.data;
  throw new ApiError(result.response.status, isProblem(result.error) ? result.error : undefined);
}
