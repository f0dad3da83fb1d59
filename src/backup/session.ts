import pg from 'pg';
import { engineOf, type Db } from '../db/client.js';
import { valueSettings } from './format.js';

/**
 * One connection with raw SQL and rows as arrays. Backup and restore work on every table
 * generically, with SQL built from the catalogue, and move millions of values: drizzle's object
 * rows would only add cost. Both engines take `$n` parameters and arrays for `text[]`.
 */
export interface SqlSession {
  readonly kind: 'pglite' | 'postgres';
  query(text: string, params?: unknown[]): Promise<unknown[][]>;
  /** Returns the connection to the pool. */
  release(): Promise<void>;
}

/**
 * A session on the database behind `db`: a connection of its own from the pool. Both engines
 * are reached through node-postgres (the embedded one serves the PostgreSQL protocol).
 */
export async function openSession(db: Db): Promise<SqlSession> {
  // drizzle keeps the driver's client here; the Database interface has no other way to it.
  const client = (db as unknown as { $client: unknown }).$client;
  if (!(client instanceof pg.Pool)) throw new Error('backup needs a node-postgres pool');
  const connection = await client.connect();
  return {
    kind: engineOf(db),
    async query(text, params = []) {
      const result = await connection.query<unknown[]>({
        text,
        values: params,
        rowMode: 'array',
      });
      return result.rows;
    },
    async release() {
      connection.release();
    },
  };
}

/** Pins the text forms of values for the current transaction (see format.ts). */
export async function pinValueSettings(session: SqlSession): Promise<void> {
  for (const [name, value] of valueSettings) {
    await session.query('select set_config($1, $2, true)', [name, value]);
  }
}

/** A double-quoted identifier; names come from the catalogue, never from a file unchecked. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
