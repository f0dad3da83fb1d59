import { AppError } from './errors.js';

/** Strong ETag from the row version: cheap, and changes on every update. */
export function etagOf(version: number): string {
  return `"v${version}"`;
}

/**
 * Honours If-Match: absent means "no precondition"; `*` matches any existing row; otherwise one
 * of the listed tags must equal the current one, else 412. Comparison is strong (RFC 9110):
 * a weak `W/` tag never matches.
 */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (header === undefined) return;
  const current = etagOf(version);
  const tags = header.split(',').map((tag) => tag.trim());
  if (tags.includes('*') || tags.includes(current)) return;
  throw new AppError(
    'precondition_failed',
    'The resource changed since you read it (ETag mismatch)',
  );
}
