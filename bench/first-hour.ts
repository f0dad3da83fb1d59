/**
 * The first hour's figures (issue 14), measured from outside as a newcomer meets them:
 * - `npm start` until `/health` answers, on a fresh data directory (first run: the embedded
 *   database from the template, migrations, the demo practice) and again on the same one;
 * - the server's resident memory at rest (its process, worker thread included; the `npm` and
 *   shell processes in front of it are left out), 10 s after it answered;
 * - `medcore help`, `version` and `openapi` (no database), and `medcore seed --demo` run beside
 *   a running server on its data directory (one started with SEED_DEMO=false, so the
 *   command makes the whole demo practice: accounts, 300 patients, a week of appointments).
 * Each timing is the median of BENCH_ROUNDS (3) runs; start-ups use a new data directory per
 * round. Run on a quiet machine, after `npm install` (the build is up to date):
 *   npx tsx bench/first-hour.ts
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from './processes.js';
import { treeRss } from './rss.js';
import { median } from './server.js';
import { freePort } from './target.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const cli = join(repoRoot, 'dist', 'cli.js');

function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() ?? 0;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${next}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${next}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(/\s+/).filter((s) => s !== '')) {
        found.push(Number(child));
        queue.push(Number(child));
      }
    }
  }
  return found;
}

/** The `node dist/cli.js serve` process under `npm start`. */
function serverPid(npmPid: number): number | undefined {
  return descendants(npmPid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cli.js\0serve');
    } catch {
      return false;
    }
  });
}

async function untilHealthy(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error('npm start exited before /health answered');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Started {
  ms: number;
  url: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

async function npmStart(dataDir: string, env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: repoRoot,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  await untilHealthy(url, child);
  const ms = performance.now() - started;
  const server = serverPid(child.pid ?? 0);
  // Stops the whole group and waits for the server itself (it drains first, holding the data
  // directory's lock until it is gone), not only for npm.
  const stop = async () => {
    if (child.exitCode === null) process.kill(-(child.pid ?? 0), 'SIGTERM');
    while (server !== undefined && existsSync(`/proc/${String(server)}`)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { ms, url, child, stop };
}

function timeCommand(args: string[], env: Record<string, string> = {}): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (result.status !== 0) {
    throw new Error(`medcore ${args.join(' ')} failed: ${result.stderr.toString()}`);
  }
  return performance.now() - started;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const fresh: number[] = [];
const existing: number[] = [];
const seeds: number[] = [];
const rest: number[] = [];
const dirs: string[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'medcore-first-hour-'));
    dirs.push(dir);
    const first = await npmStart(dir);
    fresh.push(first.ms);
    await first.stop();
    const again = await npmStart(dir);
    existing.push(again.ms);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const pid = serverPid(again.child.pid ?? 0);
    if (pid !== undefined) rest.push(treeRss(pid) / 1024 / 1024);
    await again.stop();
    // The demo practice made by the CLI beside a server that has none (SEED_DEMO=false).
    const bare = mkdtempSync(join(tmpdir(), 'medcore-first-hour-'));
    dirs.push(bare);
    const server = await npmStart(bare, { SEED_DEMO: 'false' });
    seeds.push(timeCommand(['seed', '--demo'], { DATA_DIR: bare }));
    await server.stop();
  }
  const cliTimes = (args: string[]) =>
    median(Array.from({ length: rounds }, () => timeCommand(args)));
  console.log(`node ${process.version}; ${String(rounds)} round(s); medians (min–max)`);
  const line = (label: string, values: number[]) => {
    console.log(
      `${label}: ${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`,
    );
  };
  line('npm start -> /health, fresh data directory', fresh);
  line('npm start -> /health, existing data directory', existing);
  line('medcore seed --demo beside the running server', seeds);
  console.log(`medcore help: ${fmt(cliTimes(['help']))}`);
  console.log(`medcore version: ${fmt(cliTimes(['version']))}`);
  console.log(`medcore openapi: ${fmt(cliTimes(['openapi']))}`);
  console.log(
    `server RSS at rest (10 s after /health, existing directory): ${rest.map((mb) => `${mb.toFixed(0)} MB`).join(', ')}`,
  );
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
