import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSecret } from './helpers.js';

/**
 * The CLI as a real process: `node --import tsx src/cli.ts ...` in a throw-away DATA_DIR (PGlite).
 * Every run pays for tsx and PGlite start-up, hence the generous timeouts.
 */
const root = resolve(import.meta.dirname, '..');
const TIMEOUT = 60_000;

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const tempDirs: string[] = [];
const children = new Set<ChildProcess>();

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'medcore-cli-'));
  tempDirs.push(dir);
  return dir;
}

/** A minimal, explicit environment: nothing from the developer's shell leaks in (no DATABASE_URL). */
function cliEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    JWT_SECRET: testSecret,
    ...extra,
  };
}

function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function collect(child: ChildProcess): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return collect(start(args, env));
}

function describeRun(result: RunResult): string {
  return `exit ${String(result.code)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

let dataDir: string;

beforeAll(async () => {
  dataDir = await tempDir();
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('medcore CLI', () => {
  it(
    'migrate applies migrations and exits 0 (twice: it is idempotent)',
    async () => {
      const first = await run(['migrate'], cliEnv(dataDir));
      expect(first.code, describeRun(first)).toBe(0);
      expect(first.stdout).toContain('migrations applied (pglite)');
      const second = await run(['migrate'], cliEnv(dataDir));
      expect(second.code, describeRun(second)).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'create-admin creates an admin and prints the email',
    async () => {
      const result = await run(
        ['create-admin', '--email', 'a@x.test', '--password', 'a long passphrase'],
        cliEnv(dataDir),
      );
      expect(result.code, describeRun(result)).toBe(0);
      expect(result.stdout).toMatch(/admin created: a@x\.test \([0-9a-f-]{36}\)/);
      expect(result.stdout).not.toContain('a long passphrase');
    },
    TIMEOUT,
  );

  it(
    'create-admin with an email already taken fails with exit 1 and a message',
    async () => {
      const result = await run(
        ['create-admin', '--email', 'a@x.test', '--password', 'another long passphrase'],
        cliEnv(dataDir),
      );
      expect(result.code, describeRun(result)).toBe(1);
      expect(result.stderr).toMatch(/^medcore: /m);
      expect(result.stdout).not.toContain('admin created');
    },
    TIMEOUT,
  );

  it(
    'create-admin without arguments exits 2 with one line and a pointer to help',
    async () => {
      const result = await run(['create-admin'], cliEnv(dataDir));
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.stderr).toBe(
        'medcore: create-admin needs --email\nRun `medcore help` for usage.\n',
      );
    },
    TIMEOUT,
  );

  it(
    'an unknown command exits 2',
    async () => {
      const result = await run(['frobnicate'], cliEnv(dataDir));
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.stderr).toContain('unknown command: frobnicate');
    },
    TIMEOUT,
  );

  it(
    'seed prints one account per role, and a second seed creates nothing',
    async () => {
      const first = await run(['seed'], cliEnv(dataDir));
      expect(first.code, describeRun(first)).toBe(0);
      const lines = first.stdout.split('\n').filter((line) => line.startsWith('  '));
      expect(lines, describeRun(first)).toHaveLength(6);
      const roles = lines.map((line) => line.trim().split(/\s+/)[0]);
      expect(roles.sort()).toEqual(
        ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'].sort(),
      );
      for (const line of lines) {
        const [role, email, password] = line.trim().split(/\s+/);
        expect(email).toBe(`${role}@demo.medcore.local`);
        expect(password?.length).toBeGreaterThanOrEqual(8);
      }
      const passwords = new Set(lines.map((line) => line.trim().split(/\s+/)[2]));
      expect(passwords.size).toBe(6);

      const second = await run(['seed'], cliEnv(dataDir));
      expect(second.code, describeRun(second)).toBe(0);
      expect(second.stdout).toContain('nothing created');
      expect(second.stdout).not.toContain('@demo.medcore.local');
    },
    TIMEOUT,
  );

  it(
    'openapi prints the OpenAPI document as JSON without a configured database',
    async () => {
      // A DATABASE_URL that nothing listens on, and a bad PORT: the command needs neither.
      const result = await run(
        ['openapi'],
        cliEnv(dataDir, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', PORT: 'abc' }),
      );
      expect(result.code, describeRun(result)).toBe(0);
      const doc = JSON.parse(result.stdout) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toContain('/api/v1/patients');
      expect(Object.keys(doc.paths)).toContain('/api/v1/admin/stats');
      expect(result.stderr).toBe('');
    },
    TIMEOUT,
  );

  it(
    'an invalid PORT exits 1 with a message naming PORT',
    async () => {
      const result = await run(['migrate'], cliEnv(dataDir, { PORT: 'abc' }));
      expect(result.code, describeRun(result)).toBe(1);
      expect(result.stderr).toContain('PORT');
      expect(result.stderr).toContain('medcore: Invalid configuration PORT');
      expect(result.stdout).not.toContain('migrations applied');
    },
    TIMEOUT,
  );
});

describe('data directory lock', () => {
  it(
    'a second server on a busy DATA_DIR fails, a CLI command joins it; the server stops cleanly on SIGTERM',
    async () => {
      const lockedDir = await tempDir();
      const server = start(
        ['serve'],
        cliEnv(lockedDir, { PORT: '0', LOG_LEVEL: 'info', HOST: '127.0.0.1' }),
      );
      const serverDone = collect(server);
      let serverOut = '';
      server.stdout?.on('data', (chunk: string) => (serverOut += chunk));
      await new Promise<void>((resolveReady, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`server did not start:\n${serverOut}`));
        }, 60_000);
        const check = () => {
          if (serverOut.includes('Server listening')) {
            clearTimeout(timer);
            resolveReady();
          }
        };
        server.stdout?.on('data', check);
        server.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`server exited early with ${String(code)}:\n${serverOut}`));
        });
      });

      // A second server on the directory is refused at once (its socket answers)...
      const startedAt = Date.now();
      const second = await run(['serve'], cliEnv(lockedDir, { PORT: '0' }));
      expect(second.code, describeRun(second)).toBe(1);
      expect(second.stderr).toContain('Another MedCore process');
      expect(Date.now() - startedAt).toBeLessThan(20_000);
      // ...while a database command joins the running server through that socket.
      const beside = await run(['migrate'], cliEnv(lockedDir));
      expect(beside.code, describeRun(beside)).toBe(0);
      expect(beside.stdout).toContain('migrations applied (pglite)');
      // The losing process did not disturb the server's lock.
      expect(server.exitCode).toBeNull();

      const stoppedAt = Date.now();
      server.kill('SIGTERM');
      const result = await serverDone;
      expect(result.code, describeRun(result)).toBe(0);
      expect(result.signal).toBeNull();
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);

      // With the server gone the directory is free again.
      const after = await run(['migrate'], cliEnv(lockedDir));
      expect(after.code, describeRun(after)).toBe(0);
    },
    TIMEOUT * 2,
  );
});
