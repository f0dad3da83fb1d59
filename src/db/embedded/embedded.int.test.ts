import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { openDatabase, rowsOf, type Database, type DatabaseOptions } from '../client.js';
import { rootDir } from '../paths.js';
import { startEmbeddedDatabase } from './host.js';

/**
 * The embedded database (PGlite) runs in a worker thread behind the PostgreSQL protocol. Always
 * embedded here, whatever TEST_DATABASE_URL says: these are the embedded engine's own promises.
 */
function embeddedOptions(dataDir = 'memory://', env: Record<string, string> = {}) {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
    RATE_LIMIT_ENABLED: 'false',
    ...env,
  });
}

/** Runs `work` while a 10 ms timer ticks; returns the longest gap between ticks. */
async function longestTimerGap(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(longest, performance.now() - last);
}

describe('the embedded database', () => {
  let database: Database;
  const tempDirs: string[] = [];

  beforeAll(async () => {
    database = await openDatabase(embeddedOptions());
    expect(database.kind).toBe('pglite');
  });
  afterAll(async () => {
    await database.close();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a slow query without blocking the event loop', async () => {
    const started = performance.now();
    const gap = await longestTimerGap(() => database.db.execute(sql`select pg_sleep(1)`));
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    // In the main thread the timer would wait for the whole second.
    expect(gap).toBeLessThan(600);
  });

  it('keeps /health answering while a long query runs', async () => {
    // Request timeouts raised: the query below must run to its end, however busy the machine.
    const app = await buildApp(embeddedOptions('memory://', { DB_QUERY_TIMEOUT_MS: '30000' }), {
      logger: false,
    });
    try {
      const state = { done: false };
      const slow = app.database.db.execute(sql`select pg_sleep(1)`).then(() => {
        state.done = true;
      });
      const times: number[] = [];
      while (!state.done && times.length < 500) {
        const started = performance.now();
        const res = await app.inject('/health');
        expect(res.statusCode).toBe(200);
        times.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await slow;
      // Many answers while the query ran, none held up for long (in the main thread: one, late).
      expect(times.length).toBeGreaterThan(10);
      expect(Math.max(...times)).toBeLessThan(600);
    } finally {
      await app.close();
    }
  });

  it('never lets one connection see into another one’s transaction', async () => {
    const db = database.db;
    await db.execute(sql`create table tx_probe (n int)`);
    const events: string[] = [];
    await db.transaction(async (tx) => {
      await tx.execute(sql`insert into tx_probe values (1)`);
      // Another connection: it waits for this transaction instead of running inside it.
      const outside = db.execute(sql`select count(*)::int as n from tx_probe`).then((r) => {
        events.push(`outside saw ${rowsOf<{ n: number }>(r)[0]?.n}`);
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      events.push('commit');
      void outside;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual(['commit', 'outside saw 1']);

    // A rolled-back insert is invisible to the next connection.
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into tx_probe values (2)`);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const rows = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from tx_probe`),
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('serves one named (prepared) statement on many connections of its one session', async () => {
    // Every connection parses `probe_named` once; all share PGlite's single session, where a
    // second parse of the same name would fail unless each connection names it its own way.
    const pool = (database.db as unknown as { $client: pg.Pool }).$client;
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        pool.query<{ n: number }>({
          name: 'probe_named',
          text: 'select $1::int as n',
          values: [i],
        }),
      ),
    );
    expect(answers.map((r) => r.rows[0]?.n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(pool.totalCount).toBeGreaterThan(1);
  });

  it('rolls back the transaction of a connection that goes away, and serves the others', async () => {
    const db = database.db;
    await db.execute(sql`create table drop_probe (n int)`);
    const pool = (db as unknown as { $client: pg.Pool }).$client;
    const client = await pool.connect();
    await client.query('begin');
    await client.query('insert into drop_probe values (1)');
    // Its socket closes mid-transaction (as after a client-side timeout).
    client.release(new Error('gone'));
    const rows = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from drop_probe`),
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('applies the request timeout of the pool, as on PostgreSQL', async () => {
    const own = await openDatabase({
      ...embeddedOptions(),
      dbQueryTimeoutMs: 300,
      dbConnectTimeoutMs: 5_000,
    });
    try {
      const started = performance.now();
      const error = await own.db.execute(sql`select pg_sleep(1.5)`).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(performance.now() - started).toBeLessThan(1_200);
      expect(String((error as Error | undefined)?.cause)).toContain('Query read timeout');
      // The next query waits for the abandoned one to end, then runs.
      const later = await own.db.execute(sql`select 1 as one`);
      expect(rowsOf(later)).toEqual([{ one: 1 }]);
    } finally {
      await own.close();
    }
  });

  it('surfaces a crashed thread at once instead of hanging requests', async () => {
    const failures: Error[] = [];
    const embedded = await startEmbeddedDatabase({
      dataDir: 'memory://',
      settings: [],
      onFailure: (error) => failures.push(error),
    });
    const pool = new pg.Pool({ connectionString: embedded.url, max: 2 });
    pool.on('error', () => undefined);
    try {
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      const inFlight = pool.query('select pg_sleep(0.5)').then(
        () => 'answered',
        (error: unknown) => error,
      );
      await embedded.kill();
      expect(await inFlight).toBeInstanceOf(Error);
      expect(failures).toHaveLength(1);
      expect(embedded.failure).toBe(failures[0]);
      const started = performance.now();
      await expect(pool.query('select 1')).rejects.toThrow();
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      await pool.end();
      await embedded.close();
    }
  });

  it('keeps committed rows through kill -9 and lets the next process in', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'medcore-kill-'));
    tempDirs.push(dataDir);
    // A real process that commits a row, says so, and then is killed without any shutdown.
    const script = join(dataDir, 'child.mts');
    const client = pathToFileURL(join(rootDir, 'src', 'db', 'client.ts')).href;
    const config = pathToFileURL(join(rootDir, 'src', 'config.ts')).href;
    writeFileSync(
      script,
      `import { openDatabase } from '${client}';
      import { loadConfig } from '${config}';
      const config = loadConfig({ DATA_DIR: process.argv[2], JWT_SECRET: 'x'.repeat(40) });
      const database = await openDatabase(config);
      await database.db.$client.query('create table survivor (note text)');
      await database.db.$client.query("insert into survivor values ('committed')");
      console.log('written');
      setInterval(() => undefined, 1000);
      `,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, join(dataDir, 'data')], {
      cwd: rootDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => {
        if (output.includes('written')) resolve();
      });
      child.once('exit', (code) => {
        reject(new Error(`child exited ${String(code)}: ${output}`));
      });
    });
    const exited = new Promise((resolve) => {
      child.once('exit', resolve);
    });
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(join(dataDir, 'data', 'run', '.s.PGSQL.5432'))).toBe(true);

    // The lock turns stale within seconds; the stale socket is replaced.
    const options: DatabaseOptions = embeddedOptions(join(dataDir, 'data'));
    const reopened = await openDatabase(options);
    try {
      const rows = rowsOf(await reopened.db.execute(sql`select note from survivor`));
      expect(rows).toEqual([{ note: 'committed' }]);
    } finally {
      await reopened.close();
    }
  }, 60_000);
});
