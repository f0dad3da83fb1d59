/**
 * One catalogue of problem kinds (RFC 9457). Services throw AppError; the error plugin renders it.
 * Codes are stable strings clients can switch on; titles are fixed per code.
 */
export const problemCatalogue = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  bad_request: { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Authentication required' },
  invalid_credentials: { status: 401, title: 'Invalid credentials' },
  invalid_token: { status: 401, title: 'Invalid or expired token' },
  forbidden: { status: 403, title: 'Forbidden' },
  // The staff console's cookie routes: X-CSRF-Token missing or not this session's token.
  csrf_failed: { status: 403, title: 'CSRF check failed' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  uri_too_long: { status: 414, title: 'URI too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable request' },
  // Appointments: a booking outside WORKDAY_START..WORKDAY_END on WORKDAYS (CLINIC_TIMEZONE).
  outside_working_hours: { status: 422, title: 'Outside working hours' },
  // Idempotency-Key (issue 13): reused with another request, or its first request still running.
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with another request' },
  idempotency_in_progress: { status: 409, title: 'Request with this idempotency key in progress' },
  rate_limited: { status: 429, title: 'Too many requests' },
  // PROMPT_DAILY_QUOTA used up: a per-user allowance, distinct from request-rate limits.
  prompt_quota_exceeded: { status: 429, title: 'Daily prompt quota exceeded' },
  internal_error: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  audit_unavailable: { status: 503, title: 'Audit trail unavailable' },
  // Documents
  storage_quota_exceeded: { status: 413, title: 'Storage quota exceeded' },
  virus_found: { status: 422, title: 'The file was refused by the virus scanner' },
  scanner_unavailable: { status: 503, title: 'Virus scanner unavailable' },
  storage_unavailable: { status: 503, title: 'Document storage unavailable' },
  // Stored content no longer matches its recorded SHA-256: a server-side fault, never served.
  document_corrupt: { status: 500, title: 'Stored document failed its integrity check' },
} as const;

export type ProblemCode = keyof typeof problemCatalogue;

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  /** RFC 9457 extension members, e.g. `conflicting_appointment_id`. */
  readonly extensions: Record<string, string>;

  constructor(
    code: ProblemCode,
    detail?: string,
    options: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      extensions?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(detail ?? problemCatalogue[code].title, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = problemCatalogue[code].status;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  request_id: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Builds the wire form of a problem; `type` is a URN so it never points at a host we do not run. */
export function toProblem(
  code: ProblemCode,
  detail: string,
  requestId: string,
  errors?: FieldError[],
  extensions: Record<string, string> = {},
): Problem {
  const entry = problemCatalogue[code];
  const problem: Problem = {
    ...extensions,
    type: `urn:medcore:problem:${code}`,
    title: entry.title,
    status: entry.status,
    detail,
    code,
    request_id: requestId,
  };
  if (errors && errors.length > 0) problem.errors = errors;
  return problem;
}

// Factories for the problems services raise again and again, so each wording lives in one place.
// They build ordinary AppErrors: the wire form is the same as an inline `new AppError(...)`.

/** 404 for a record that does not exist (or is not the caller's to see): "No such <thing>". */
export function notFound(thing: string): AppError {
  return new AppError('not_found', `No such ${thing}`);
}

/**
 * 412 for a conditional write that found the row changed since it was read (a version or ETag
 * mismatch, or a parallel change): "The <thing> changed since you read it".
 */
export function stale(thing: string): AppError {
  return new AppError('precondition_failed', `The ${thing} changed since you read it`);
}

/**
 * The result of a write guarded by the version read before (`WHERE version = ...`): none means a
 * parallel change won, and the caller gets `stale(thing)` (412) instead of a silent overwrite.
 */
export async function unlessStale<T>(
  thing: string,
  write: Promise<T | null | undefined>,
): Promise<T> {
  const result = await write;
  if (!result) throw stale(thing);
  return result;
}

/** 403 for an action the caller may not take; by default the permission table's wording. */
export function forbidden(detail = 'Your role does not allow this action'): AppError {
  return new AppError('forbidden', detail);
}

/**
 * A problem about one request field: `errors` names it (`body.email`, `query.cursor`) with a
 * short `message`, and `detail` says it in a sentence. A 400 validation_failed unless `code`
 * says otherwise (e.g. 422 unprocessable for a well-formed value that names nothing).
 */
export function fieldError(
  field: string,
  message: string,
  detail: string,
  options: { code?: ProblemCode; cause?: unknown } = {},
): AppError {
  return new AppError(options.code ?? 'validation_failed', detail, {
    errors: [{ field, message }],
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** Runs a loader for a record the request body refers to: "not found" becomes a 422 on `field`. */
export async function mustExist(field: string, load: () => Promise<unknown>): Promise<void> {
  try {
    await load();
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'not_found') throw error;
    throw fieldError(`body.${field}`, 'not found', `${field} does not name a known record`, {
      code: 'unprocessable',
    });
  }
}
