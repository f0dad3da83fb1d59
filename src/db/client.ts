import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'drizzle-orm/logger';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { Config } from '../config.js';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';
import { advertiseSocket, runningServerSocket, withdrawSocket } from './embedded/running-server.js';
import { embeddedSettings, socketUrl, startEmbeddedDatabase } from './embedded/host.js';
import { templateFile } from './embedded/template.js';
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
  /** The connection pool right now (metrics): open connections, idle ones, requests waiting. */
  poolStats(): PoolStats;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
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
  /**
   * What to do when a server already runs on the embedded DATA_DIR: refuse at once (a second
   * server, by default), `join` it through its socket (CLI jobs), or `refuse-job` with a reason
   * (restore, which must not replace a live server's data).
   */
  besideServer?: 'join' | 'refuse-job' | undefined;
};

export class ServerRunningError extends Error {
  constructor(dataDir: string) {
    super(
      `a MedCore server is running on ${dataDir}: restore replaces the whole database under it. ` +
        'Stop the server, run restore, then start it again.',
    );
    this.name = 'ServerRunningError';
  }
}

/**
 * The options for a job (a CLI command such as seed or create-admin): the request timeouts,
 * tuned to fail fast during an outage, are raised to DB_JOB_TIMEOUT_MS.
 */
export function jobDatabaseOptions(options: DatabaseOptions): DatabaseOptions {
  return {
    ...options,
    besideServer: 'join',
    dbQueryTimeoutMs: options.dbJobTimeoutMs,
    dbStatementTimeoutMs: options.dbJobTimeoutMs,
  };
}

/**
 * PostgreSQL when DATABASE_URL is set, otherwise PGlite in DATA_DIR ("memory://" for tests).
 * PGlite runs in a worker thread and speaks the PostgreSQL protocol on a unix socket
 * (embedded/), so both engines go through the same node-postgres pool, timeouts and drizzle
 * driver, and a slow query on the embedded database never blocks the event loop.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl === undefined
    ? openPglite(options)
    : openPool(options.databaseUrl, options, 'postgres');
}

async function openPglite(options: DatabaseOptions): Promise<Database> {
  const inMemory = options.dataDir.startsWith('memory://');
  const dataDir = resolve(options.dataDir);
  let release: (() => Promise<void>) | undefined;
  if (!inMemory) {
    const running = await runningServerSocket(dataDir);
    if (running !== undefined) {
      if (options.besideServer === 'join') return openPool(socketUrl(running), options, 'pglite');
      if (options.besideServer === 'refuse-job') throw new ServerRunningError(dataDir);
      throw new DataDirLockedError(dataDir);
    }
    mkdirSync(dataDir, { recursive: true });
    release = await lockDataDir(dataDir);
  }
  let embedded;
  try {
    embedded = await startEmbeddedDatabase({
      dataDir: inMemory ? options.dataDir : resolve(dataDir, 'pg'),
      ...(inMemory ? {} : { socketDir: resolve(dataDir, 'run') }),
      settings: embeddedSettings,
      template: templateFile(),
      onFailure: (error) => {
        // Requests fail at once from here on (the socket refuses); readiness reports it.
        console.error(`medcore: the embedded database stopped: ${error.message}`);
      },
    });
  } catch (error) {
    await release?.();
    throw error;
  }
  const server = embedded;
  // Only a server lets others in; a CLI job that opened the directory itself keeps it private.
  const shared = !inMemory && options.besideServer === undefined;
  if (shared) advertiseSocket(dataDir, server.socketDir);
  const database = openPool(server.url, options, 'pglite');
  return {
    db: database.db,
    kind: 'pglite',
    async ping() {
      if (server.failure !== undefined) throw server.failure;
      await database.ping();
    },
    poolStats: () => database.poolStats(),
    migrate: () => database.migrate(),
    close: once(async () => {
      try {
        if (shared) withdrawSocket(dataDir);
        await database.close();
      } finally {
        await server.close();
        await release?.();
      }
    }),
  };
}

function openPool(url: string, options: DatabaseOptions, kind: Database['kind']): Database {
  const pool = createPgPool(url, {
    max: options.dbPoolMax,
    applicationName: 'medcore',
    connectMs: options.dbConnectTimeoutMs,
    queryMs: options.dbQueryTimeoutMs,
    statementMs: options.dbStatementTimeoutMs,
    keepIdle: kind === 'pglite',
  });
  const db = drizzlePg(pool, {
    schema,
    ...(options.queryLogger ? { logger: options.queryLogger } : {}),
  }) as unknown as Db;
  engines.set(db, kind);
  return {
    db,
    kind,
    async ping() {
      await pool.query('select 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
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

const engines = new WeakMap<Db, Database['kind']>();

/** The engine behind a `db` from openDatabase (code given only a Db, such as backup, asks). */
export function engineOf(db: Db): Database['kind'] {
  return engines.get(db) ?? 'postgres';
}

/** Raw `execute` results: node-postgres and PGlite both carry `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
