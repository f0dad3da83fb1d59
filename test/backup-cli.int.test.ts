import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { jobDatabaseOptions, openDatabase } from '../src/db/client.js';
import { statusChecks } from '../src/db/schema/status.js';
import { newId } from '../src/lib/ids.js';
import { removeTempDirs, tempDir } from './backup-support.js';
import { testSecret } from './helpers.js';

/**
 * `medcore backup` and `medcore restore` as real processes on PGlite data directories: exit
 * codes, messages, plain progress lines on a non-terminal stderr. The engines and every refusal
 * are covered in src/backup/*.int.test.ts; this is the command line around them.
 */
const root = resolve(import.meta.dirname, '..');

afterAll(removeTempDirs);

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], dataDir: string): Promise<RunResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    // Nothing from the developer's shell (no DATABASE_URL): PGlite in dataDir.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      JWT_SECRET: testSecret,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => {
      done({ code, stdout, stderr });
    });
  });
}

const show = (r: RunResult) => `exit ${String(r.code)}\n${r.stdout}\n${r.stderr}`;

it(
  'backs up one data directory and restores it into another, once',
  { timeout: 90_000 },
  async () => {
    const source = await tempDir();
    const target = await tempDir();
    const file = join(await tempDir(), 'practice.gz');

    // The source practice is prepared in-process: one process less to wait for.
    const practice = await openDatabase(
      jobDatabaseOptions(loadConfig({ DATA_DIR: source, JWT_SECRET: testSecret })),
    );
    await practice.migrate();
    await practice.db.insert(statusChecks).values({ id: newId(), clientName: 'cli backup' });
    await practice.close();

    const [backup, missing] = await Promise.all([
      run(['backup', file], source),
      run(['backup'], source),
    ]);
    expect(backup.code, show(backup)).toBe(0);
    expect(backup.stdout).toMatch(
      /^backup written to .*practice\.gz: \d+ tables, \d+ rows, 0 document objects/,
    );
    expect(backup.stderr).toMatch(/^backup: done, \d+ rows in/m);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('backup needs one file name');

    const restore = await run(['restore', file], target);
    expect(restore.code, show(restore)).toBe(0);
    expect(restore.stdout).toMatch(/^restored .*practice\.gz into pglite: \d+ tables, \d+ rows/);
    expect(restore.stderr).toMatch(/^verify: done, \d+ bytes/m);
    expect(restore.stderr).toMatch(/^restore: done, \d+ rows/m);

    const again = await run(['restore', file], target);
    expect(again.code, show(again)).toBe(1);
    expect(again.stderr).toMatch(/^medcore: the target database already holds data .*--force/m);
    expect(again.stderr).not.toContain('    at ');
  },
);
