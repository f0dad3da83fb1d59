import { AppError, fieldError } from './errors.js';
import { isUuid } from './ids.js';

/**
 * Opaque keyset cursors: base64url JSON of the last row's sort key. Clients must not build them;
 * a cursor that does not decode to the expected shape is a 400, never a 500.
 */
export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor<K extends string>(
  cursor: string | undefined,
  fields: readonly K[],
  /** Shape checks per field (e.g. a UUID): a value the database would reject is a 400 here. */
  checks: Partial<Record<K, (value: string) => boolean>> = {},
): Record<K, string> | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidCursor();
  const record = parsed as Record<string, unknown>;
  const out = {} as Record<K, string>;
  for (const field of fields) {
    const value = record[field];
    if (typeof value !== 'string' || value.length > 200) throw invalidCursor();
    if (checks[field]?.(value) === false) throw invalidCursor();
    out[field] = value;
  }
  return out;
}

function invalidCursor(): AppError {
  return fieldError('query.cursor', 'invalid cursor', 'The cursor is not valid for this list');
}

/**
 * One page of a list keyed by id alone, newest first (UUIDv7 ids sort by creation time): decodes
 * the cursor (a bad one is a 400), reads with `read(beforeId, limit)` (limit+1 rows) and splits.
 * The lists of prescriptions, prompts, documents, visit notes and status checks page this way.
 */
export async function pageById<T extends { id: string }>(
  query: { limit?: number; cursor?: string },
  read: (beforeId: string | undefined, limit: number) => Promise<T[]>,
) {
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['id'], { id: isUuid });
  return toPage(await read(before?.id, limit), limit, (row) => ({ id: row.id }));
}

/** Fetch limit+1 rows, then split: the extra row only proves a next page exists. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => Record<string, string>) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null;
  return { items, next_cursor: nextCursor };
}
