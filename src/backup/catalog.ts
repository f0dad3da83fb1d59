import type { SequenceEntry } from './format.js';
import { ident, type SqlSession } from './session.js';

/**
 * What a backup covers, read from the database's own catalogue rather than from the Drizzle
 * schema: every table in the application schema is included, including one added by a migration
 * nobody told this module about.
 */
export interface TableInfo {
  name: string;
  /** Non-generated columns in attribute order, with their full SQL type for casts. */
  columns: { name: string; type: string }[];
  /** Primary-key columns (empty when there is none): a stable, index-backed row order. */
  primaryKey: string[];
}

/** Tables of the current schema, parents before children (the order rows must be inserted). */
export async function listTables(session: SqlSession): Promise<TableInfo[]> {
  const names = (
    await session.query(
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind = 'r' and not c.relispartition
        order by c.relname`,
    )
  ).map((row) => String(row[0]));
  const edges = await session.query(
    `select child.relname, parent.relname
       from pg_constraint k
       join pg_class child on child.oid = k.conrelid
       join pg_class parent on parent.oid = k.confrelid
       join pg_namespace n on n.oid = k.connamespace
      where k.contype = 'f' and n.nspname = current_schema()`,
  );
  const ordered = dependencyOrder(
    names,
    edges.map((row) => [String(row[0]), String(row[1])] as const),
  );
  const tables: TableInfo[] = [];
  for (const name of ordered) tables.push(await describeTable(session, name));
  return tables;
}

async function describeTable(session: SqlSession, name: string): Promise<TableInfo> {
  const relation = ident(name);
  const columns = await session.query(
    `select a.attname, format_type(a.atttypid, a.atttypmod)
       from pg_attribute a
      where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
        and a.attgenerated = ''
      order by a.attnum`,
    [relation],
  );
  const primaryKey = await session.query(
    `select a.attname
       from pg_index i
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
      where i.indrelid = $1::regclass and i.indisprimary
      order by array_position(i.indkey::int2[], a.attnum)`,
    [relation],
  );
  return {
    name,
    columns: columns.map((row) => ({ name: String(row[0]), type: String(row[1]) })),
    primaryKey: primaryKey.map((row) => String(row[0])),
  };
}

/**
 * A topological order of `names` by foreign keys (child -> parent), alphabetical among equals so
 * backups of equal databases are equal. Self-references are ignored; a cycle (none exists today)
 * falls back to alphabetical order for the tables in it, and restore would then report the
 * violated foreign key and roll back.
 */
export function dependencyOrder(
  names: readonly string[],
  edges: readonly (readonly [child: string, parent: string])[],
): string[] {
  const parents = new Map(names.map((name) => [name, new Set<string>()]));
  for (const [child, parent] of edges) {
    if (child !== parent && parents.has(parent)) parents.get(child)?.add(parent);
  }
  const done = new Set<string>();
  const order: string[] = [];
  const sorted = [...names].sort();
  while (order.length < names.length) {
    const ready = sorted.filter(
      (name) => !done.has(name) && [...(parents.get(name) ?? [])].every((p) => done.has(p)),
    );
    const next = ready.length > 0 ? ready : sorted.filter((name) => !done.has(name)).slice(0, 1);
    for (const name of next) {
      done.add(name);
      order.push(name);
    }
  }
  return order;
}

/** The application's sequences (MRNs, audit numbering), to be set to the same point. */
export async function listSequences(session: SqlSession): Promise<SequenceEntry[]> {
  const rows = await session.query(
    `select sequencename, last_value::text, start_value::text from pg_sequences
      where schemaname = current_schema() order by sequencename`,
  );
  return rows.map((row) => ({
    name: String(row[0]),
    last_value: typeof row[1] === 'string' ? row[1] : null,
    start_value: String(row[2]),
  }));
}

/** Applied migrations (drizzle's journal `when`), oldest first; [] for a fresh database. */
export async function appliedMigrations(session: SqlSession): Promise<number[]> {
  const [exists] = await session.query(
    `select to_regclass('drizzle.__drizzle_migrations') is not null`,
  );
  if (exists?.[0] !== true) return [];
  const rows = await session.query(
    'select created_at::text from drizzle.__drizzle_migrations order by created_at',
  );
  return rows.map((row) => Number(row[0]));
}

/** Whether any table holds a row (the restore target must not, unless --force). */
export async function tablesWithRows(
  session: SqlSession,
  tables: readonly TableInfo[],
): Promise<string[]> {
  const found: string[] = [];
  for (const table of tables) {
    const [row] = await session.query(`select exists (select 1 from ${ident(table.name)})`);
    if (row?.[0] === true) found.push(table.name);
  }
  return found;
}
