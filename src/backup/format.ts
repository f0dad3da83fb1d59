/**
 * The backup file format, version 1: gzip'd newline-delimited JSON (see README.md here).
 *
 *   {"t":"header", ...BackupHeader}
 *   {"t":"table","name":"users","columns":["id",...],"rows":N}   then N lines, each a JSON array
 *   ["0190…", "2025-01-02 03:04:05.123456+00", null, ...]        of PostgreSQL text values
 *   ...                                                          (tables in foreign-key order)
 *   {"t":"blob","key":"<uuid>"}                                  document content, when included:
 *   "<base64>"                                                   chunks of at most 48 KiB raw
 *   {"t":"blob_end","key":"<uuid>","size":n,"sha256":"<hex>"}
 *   {"t":"end","lines":n,"sha256":"<hex>"}                       SHA-256 of every byte before it
 *
 * Values are PostgreSQL's own text forms (what `::text` prints with the session settings below),
 * so every type round-trips exactly between PGlite and PostgreSQL: microsecond timestamps,
 * bigint and numeric digits, jsonb (as text, so no JavaScript number rounding), bytea (hex),
 * arrays. Generated columns are not written; the target computes them.
 */
export const BACKUP_FORMAT = 'medcore-backup';
export const BACKUP_VERSION = 1;

/** Session settings that fix the text forms of values on both engines, read and write. */
export const valueSettings: readonly (readonly [string, string])[] = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, YMD'],
  ['IntervalStyle', 'postgres'],
  ['bytea_output', 'hex'],
  ['extra_float_digits', '3'],
];

export interface TableEntry {
  name: string;
  /** Written (non-generated) columns, in the order of each row array. */
  columns: string[];
  rows: number;
}

export interface SequenceEntry {
  name: string;
  /** null when the sequence was never used. */
  last_value: string | null;
  start_value: string;
}

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  created_at: string;
  app_version: string;
  engine: 'pglite' | 'postgres';
  /** Migration timestamps (drizzle journal `when`) applied to the source, oldest first. */
  migrations: number[];
  /** The newest migration's tag, for messages; null when the source was never migrated. */
  migration_tag: string | null;
  /** "included": blobs follow the tables; "referenced": rows name keys, content stays put. */
  content: 'included' | 'referenced';
  tables: TableEntry[];
  sequences: SequenceEntry[];
  /** Objects whose content is included (0 when referenced). */
  blobs: number;
}

export type ControlLine =
  | ({ t: 'header' } & BackupHeader)
  | { t: 'table'; name: string; columns: string[]; rows: number }
  | { t: 'blob'; key: string }
  | { t: 'blob_end'; key: string; size: number; sha256: string }
  | { t: 'end'; lines: number; sha256: string };

/** Raw chunk size of document content: 48 KiB is 64 KiB of base64, a comfortable line. */
export const BLOB_CHUNK = 48 * 1024;

/**
 * A refusal with a message for the operator (corrupt file, newer format, non-empty target). The
 * CLI prints it without a stack trace; nothing was changed when it is thrown.
 */
export class BackupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackupError';
  }
}
