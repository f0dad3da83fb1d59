import type { Progress } from '../lib/progress.js';
import type { TableInfo } from './catalog.js';
import type { BlobSink } from './content.js';
import { BackupError, type BackupHeader } from './format.js';
import { ident, type SqlSession } from './session.js';

// Rows per INSERT, and a cap on the text in one (documents carry extracted text).
const BATCH_ROWS = 2_000;
const BATCH_CHARS = 8 << 20;

interface Target {
  name: string;
  expected: number;
  seen: number;
  insert: string;
  /** One array per column: a batch goes in as `unnest($1::text[], $2::text[], ...)`. */
  batch: (string | null)[][];
  batchRows: number;
  batchChars: number;
}

/**
 * Feeds a restore's lines into the open transaction: rows into their tables in batches, content
 * into the storage sink. Tables and columns are looked up in the target's catalogue, so SQL is
 * only ever built from names the target itself reported; a file naming anything else is refused.
 */
export class RowLoader {
  private current: Target | undefined;
  private readonly done = new Set<string>();
  private readonly tables: Map<string, TableInfo>;
  rows = 0;

  constructor(
    private readonly session: SqlSession,
    tables: readonly TableInfo[],
    private readonly header: BackupHeader,
    private readonly blobs: BlobSink | undefined,
    private readonly progress: Progress | undefined,
  ) {
    this.tables = new Map(tables.map((t) => [t.name, t]));
  }

  async line(line: unknown): Promise<void> {
    if (Array.isArray(line)) return this.row(line);
    if (typeof line === 'string') {
      if (!this.blobs) throw new BackupError('document content in a backup that has none');
      return this.blobs.chunk(line);
    }
    const control = line as { t?: unknown; [key: string]: unknown };
    switch (control.t) {
      case 'header':
        return;
      case 'table':
        await this.finishTable();
        this.startTable(String(control.name), control.columns, Number(control.rows));
        return;
      case 'blob':
        await this.finishTable();
        if (!this.blobs) throw new BackupError('document content in a backup that has none');
        await this.blobs.begin(String(control.key));
        return;
      case 'blob_end':
        await this.blobs?.end(String(control.key), Number(control.size), String(control.sha256));
        this.progress?.increment();
        return;
      default:
        throw new BackupError(`unknown line type ${JSON.stringify(control.t)}`);
    }
  }

  /** After the last line: every table the header lists must have arrived complete. */
  async finish(): Promise<void> {
    await this.finishTable();
    for (const table of this.header.tables) {
      if (!this.done.has(table.name)) {
        throw new BackupError(
          `table ${table.name} is listed in the header but has no rows section`,
        );
      }
    }
  }

  private startTable(name: string, columns: unknown, rows: number): void {
    const table = this.tables.get(name);
    if (!table) {
      throw new BackupError(`the backup has a table "${name}" that the target schema does not`);
    }
    if (this.done.has(name)) throw new BackupError(`table ${name} appears twice`);
    if (!Array.isArray(columns) || columns.length === 0) {
      throw new BackupError(`table ${name} has no column list`);
    }
    const types = new Map(table.columns.map((c) => [c.name, c.type]));
    const casts = columns.map((column: unknown, i) => {
      const type = types.get(String(column));
      if (type === undefined) {
        throw new BackupError(
          `the backup has a column "${name}.${String(column)}" that the target schema does not write`,
        );
      }
      return `u.c${i}::${type}`;
    });
    const listed = columns.map((c: unknown) => ident(String(c))).join(', ');
    const unnest = columns.map((_c: unknown, i) => `$${i + 1}::text[]`).join(', ');
    const aliases = columns.map((_c: unknown, i) => `c${i}`).join(', ');
    this.current = {
      name,
      expected: rows,
      seen: 0,
      // OVERRIDING SYSTEM VALUE: identity columns (none yet) keep their backed-up values too.
      insert:
        `insert into ${ident(name)} (${listed}) overriding system value ` +
        `select ${casts.join(', ')} from unnest(${unnest}) as u(${aliases})`,
      batch: columns.map(() => []),
      batchRows: 0,
      batchChars: 0,
    };
  }

  private async row(values: unknown[]): Promise<void> {
    const target = this.current;
    if (!target) throw new BackupError('a row outside a table section');
    if (values.length !== target.batch.length) {
      throw new BackupError(
        `a row of ${target.name} has ${values.length} values, not ${target.batch.length}`,
      );
    }
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value !== null && typeof value !== 'string') {
        throw new BackupError(`a value of ${target.name} is neither text nor null`);
      }
      target.batch[i]?.push(value);
      if (value !== null) target.batchChars += value.length;
    }
    target.batchRows += 1;
    target.seen += 1;
    if (target.batchRows >= BATCH_ROWS || target.batchChars >= BATCH_CHARS)
      await this.flush(target);
  }

  private async flush(target: Target): Promise<void> {
    if (target.batchRows === 0) return;
    await this.session.query(target.insert, target.batch);
    this.rows += target.batchRows;
    this.progress?.increment(target.batchRows);
    target.batch = target.batch.map(() => []);
    target.batchRows = 0;
    target.batchChars = 0;
  }

  private async finishTable(): Promise<void> {
    const target = this.current;
    if (!target) return;
    await this.flush(target);
    const listed = this.header.tables.find((t) => t.name === target.name)?.rows;
    if (target.seen !== target.expected || listed !== target.expected) {
      throw new BackupError(
        `table ${target.name} has ${target.seen} rows; the backup says ${String(listed)}`,
      );
    }
    this.done.add(target.name);
    this.current = undefined;
  }
}
