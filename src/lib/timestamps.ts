import { fieldError } from './errors.js';

/**
 * An RFC 3339 timestamp that passed the schema's `date-time` format, turned into a Date. The
 * format admits values JavaScript or PostgreSQL cannot hold (a leap second `23:59:60`, year
 * 0000): those are a 400 naming the field, never a 500 later.
 */
export function parseTimestamp(value: string, field: string): Date {
  const parsed = new Date(value);
  const year = Number.isNaN(parsed.getTime()) ? 0 : parsed.getUTCFullYear();
  if (year < 1 || year > 9999) {
    throw fieldError(
      field,
      'must be a real date and time between years 1 and 9999',
      `${field} is not a usable date and time`,
    );
  }
  return parsed;
}

/** parseTimestamp for optional query values. */
export function parseOptionalTimestamp(value: string | undefined, field: string): Date | undefined {
  return value === undefined ? undefined : parseTimestamp(value, field);
}
