import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { Logger } from 'drizzle-orm/logger';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { Config } from '../config.js';
import { lockDataDir } from './data-dir-lock.js';
import { migrationsFolder } from './paths.js';
import { connectPgClient, createPgPool } from './pg-pool.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle; repositories accept either a Db or a Tx. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Cheap round trip used by readiness. */
  ping(): Promise<void>;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** Closing twice (shutdown racing a test teardown) must not throw. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

// Any constant works; it only has to be the same for every MedCore instance on one database.
const MIGRATION_LOCK_KEY = 72_616_001;

export type DatabaseOptions = Pick<
  Config,
  | 'databaseUrl'
  | 'dataDir'
  | 'dbPoolMax'
  | 'dbConnectTimeoutMs'
  | 'dbQueryTimeoutMs'
  | 'dbStatementTimeoutMs'
  | 'dbJobTimeoutMs'
> & {
  /** Sees every statement drizzle sends (tests count the statements of a request with it). */
  queryLogger?: Logger | undefined;
};

/**
 * The options for a job (a CLI command such as seed or create-admin): the request timeouts,
 * tuned to fail fast during an outage, are raised to DB_JOB_TIMEOUT_MS.
 */
export function jobDatabaseOptions(options: DatabaseOptions): DatabaseOptions {
  return {
    ...options,
    dbQueryTimeoutMs: options.dbJobTimeoutMs,
    dbStatementTimeoutMs: options.dbJobTimeoutMs,
  };
}

/** PostgreSQL when DATABASE_URL is set, otherwise PGlite in DATA_DIR ("memory://" for tests). */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl === undefined
    ? openPglite(options.dataDir, options.queryLogger)
    : openPostgres(options.databaseUrl, options);
}

async function openPglite(dataDir: string, logger?: Logger): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  let release: (() => Promise<void>) | undefined;
  if (!inMemory) {
    mkdirSync(resolve(dataDir), { recursive: true });
    release = await lockDataDir(resolve(dataDir));
  }
  // The same extensions the migrations create on PostgreSQL.
  const client = new PGlite(inMemory ? dataDir : resolve(dataDir, 'pg'), {
    extensions: { pg_trgm, btree_gist },
  });
  await client.waitReady;
  const db = drizzlePglite(client, { schema, ...(logger ? { logger } : {}) }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    async migrate() {
      await migratePglite(db as never, { migrationsFolder });
    },
    close: once(async () => {
      await client.close();
      await release?.();
    }),
  };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = createPgPool(url, {
    max: options.dbPoolMax,
    applicationName: 'medcore',
    connectMs: options.dbConnectTimeoutMs,
    queryMs: options.dbQueryTimeoutMs,
    statementMs: options.dbStatementTimeoutMs,
  });
  const db = drizzlePg(pool, {
    schema,
    ...(options.queryLogger ? { logger: options.queryLogger } : {}),
  }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    async ping() {
      await pool.query('select 1');
    },
    async migrate() {
      // Its own connection with the job timeouts: a migration (or waiting for another instance's
      // migration, below) may take far longer than the request timeouts allow.
      const client = await connectPgClient(url, {
        applicationName: 'medcore-migrate',
        connectMs: options.dbConnectTimeoutMs,
        queryMs: options.dbJobTimeoutMs,
        statementMs: options.dbJobTimeoutMs,
      });
      try {
        // Several instances may start at once: one migrates, the others wait for the lock.
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => 0);
        await client.end().catch(() => undefined);
      }
    },
    close: once(() => pool.end()),
  };
}

/** Raw `execute` results: node-postgres and PGlite both carry `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
