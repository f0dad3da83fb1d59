/**
 * One database to benchmark on, seeded, with the built MedCore server running on it as a separate
 * process: PostgreSQL (a scratch database next to BENCH_DATABASE_URL's) or embedded PGlite (a
 * fresh temporary DATA_DIR). close() stops the server and removes the data; it also runs on Ctrl-C.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from './pg-database.js';
import { onCleanup, spawnTs } from './processes.js';
import type { DbKind } from './routes.js';
import type { SeedResult } from './seed.js';
import { startServer } from './server.js';
import type { Settings } from './settings.js';

export interface Target {
  kind: DbKind;
  url: string;
  pid: number;
  seed: SeedResult;
  close: () => Promise<void>;
}

/** A port nobody listens on now (the server takes it a moment later; fine on a bench machine). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function seed(settings: Settings, env: Record<string, string>): Promise<SeedResult> {
  const dir = mkdtempSync(join(tmpdir(), 'medcore-bench-seed-'));
  const out = join(dir, 'seed.json');
  const child = spawnTs(
    'bench/seed.ts',
    [String(settings.patients), String(settings.appointments), out],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  try {
    const code = await new Promise((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`seeding exited with ${String(code)}`);
    return JSON.parse(readFileSync(out, 'utf8')) as SeedResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function openTarget(kind: DbKind, settings: Settings): Promise<Target> {
  const steps: (() => Promise<void>)[] = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (let step = steps.pop(); step !== undefined; step = steps.pop()) await step();
    })());
  onCleanup(close);
  try {
    // An empty DATABASE_URL selects the embedded database even if the caller's shell sets one.
    const env: Record<string, string> = { DATABASE_URL: '' };
    if (kind === 'postgres') {
      if (settings.databaseUrl === undefined) throw new Error('BENCH_DATABASE_URL is not set');
      const scratch = await createScratchDatabase(settings.databaseUrl);
      steps.push(scratch.drop);
      console.error(`postgres: scratch database ${scratch.name}`);
      env.DATABASE_URL = scratch.url;
    } else {
      const dataDir = mkdtempSync(join(tmpdir(), 'medcore-bench-embedded-'));
      // startServer removes it too when the server stops; this covers a failed seeding.
      steps.push(async () => {
        rmSync(dataDir, { recursive: true, force: true });
      });
      env.DATA_DIR = dataDir;
    }
    const seeded = await seed(settings, env);
    console.error(`${kind}: seeded in ${seeded.seconds.toFixed(1)} s`);
    const server = await startServer(await freePort(), env);
    steps.push(server.stop);
    return { kind, url: server.url, pid: server.pid, seed: seeded, close };
  } catch (error) {
    await close();
    throw error;
  }
}
