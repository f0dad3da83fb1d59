import { existsSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanUp,
  cliEnv,
  collect,
  describeRun,
  freePort,
  run,
  start,
  tempDir,
  waitFor,
} from './cli-support.js';

/** The first hour's command line: fast answers, one-line errors, .env, the rules of the API. */
const TIMEOUT = 90_000;
afterAll(cleanUp);

describe('commands without a database', () => {
  it(
    'help, version and --version answer whatever the configuration',
    async () => {
      const env = cliEnv({ PORT: 'abc', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      const help = await run(['help'], env);
      expect(help.code, describeRun(help)).toBe(0);
      expect(help.stdout).toContain('Usage: medcore');
      for (const args of [['version'], ['--version']]) {
        const result = await run(args, env);
        expect(result.code, describeRun(result)).toBe(0);
        expect(result.stdout).toMatch(/^medcore \d+\.\d+\.\d+\n$/);
      }
    },
    TIMEOUT,
  );

  it(
    'openapi --out writes the document; a closed pipe ends it quietly',
    async () => {
      const out = join(await tempDir(), 'api.json');
      const written = await run(['openapi', '--out', out], cliEnv());
      expect(written.code, describeRun(written)).toBe(0);
      expect(written.stdout).toBe('');
      const doc = JSON.parse(await readFile(out, 'utf8')) as { openapi: string };
      expect(doc.openapi).toBe('3.1.0');

      // `medcore openapi | head -c 10`: the reader goes away after the first bytes.
      const child = start(['openapi'], cliEnv());
      const result = collect(child);
      child.stdout?.once('data', () => child.stdout?.destroy());
      const closed = await result;
      expect(closed.code, describeRun(closed)).toBe(0);
      expect(closed.stderr).toBe('');
    },
    TIMEOUT,
  );

  it(
    'an unknown option is one line and exit 2, without a stack trace',
    async () => {
      const result = await run(['seed', '--frobnicate'], cliEnv());
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.stderr).toBe(
        "medcore: Unknown option '--frobnicate'\nRun `medcore help` for usage.\n",
      );
    },
    TIMEOUT,
  );
});

describe('create-admin', () => {
  it(
    'applies the API rules and names the broken one in plain words',
    async () => {
      const env = cliEnv({ DATA_DIR: await tempDir() });
      const cases: [string[], string][] = [
        [
          ['--email', 'bad', '--password', 'a long passphrase'],
          'email is not a valid email address',
        ],
        [
          ['--email', 'nina@x.test', '--password', 'short1'],
          'password must be at least 8 characters',
        ],
        [['--email', 'nina@x.test', '--password', 'password123'], 'list of common passwords'],
      ];
      for (const [args, rule] of cases) {
        const result = await run(['create-admin', ...args], env);
        expect(result.code, describeRun(result)).toBe(2);
        expect(result.stderr).toContain(rule);
        expect(result.stderr).not.toMatch(/body\.|\bat \S+:\d+/);
      }
    },
    TIMEOUT,
  );

  it(
    'reads the password from one piped line',
    async () => {
      const env = cliEnv({ DATA_DIR: await tempDir() });
      const result = await run(['create-admin', '--email', 'piped@x.test'], env, {
        stdin: 'a piped passphrase\nignored second line\n',
      });
      expect(result.code, describeRun(result)).toBe(0);
      expect(result.stdout).toMatch(/admin created: piped@x\.test/);
    },
    TIMEOUT,
  );
});

describe('.env', () => {
  it(
    'is read from the working directory; the environment wins; a bad value names its key',
    async () => {
      const cwd = await tempDir();
      writeFileSync(join(cwd, '.env'), 'DATA_DIR=./from-env-file\nPORT=abc\n');
      const env = cliEnv({ PORT: '8123' });
      const ok = await run(['migrate'], env, { cwd });
      expect(ok.code, describeRun(ok)).toBe(0);
      expect(existsSync(join(cwd, 'from-env-file', 'pg', 'PG_VERSION'))).toBe(true);

      const bad = await run(['migrate'], cliEnv(), { cwd });
      expect(bad.code, describeRun(bad)).toBe(1);
      expect(bad.stderr).toBe(
        'medcore: Invalid configuration PORT: expected an integer, got "abc" (set in .env)\n',
      );
    },
    TIMEOUT,
  );
});

describe('beside a running server on the same DATA_DIR', () => {
  it(
    'create-admin, seed --demo and backup work and show through the API at once; restore refuses',
    async () => {
      const dataDir = await tempDir();
      const port = await freePort();
      const env = cliEnv({ DATA_DIR: dataDir, PORT: String(port) });
      const server = start(['serve'], env);
      const base = `http://127.0.0.1:${port}`;
      await waitFor(`${base}/health`, server, 60_000);
      expect((await stat(join(dataDir, 'run'))).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, 'run', '.s.PGSQL.5432'))).mode & 0o777).toBe(0o600);

      const admin = await run(['create-admin', '--email', 'boss@x.test'], env, {
        stdin: 'a boss passphrase\n',
      });
      expect(admin.code, describeRun(admin)).toBe(0);
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'boss@x.test', password: 'a boss passphrase' }),
      });
      expect(login.status).toBe(200);
      const { access_token: token } = (await login.json()) as { access_token: string };

      const seeded = await run(['seed', '--demo', '--patients', '5'], env);
      expect(seeded.code, describeRun(seeded)).toBe(0);
      expect(seeded.stdout).toContain('Demo practice: 5 patients');
      const patients = await fetch(`${base}/api/v1/patients?limit=50`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await patients.json()) as { items: unknown[] }).items).toHaveLength(5);
      const accounts = await readFile(join(dataDir, 'demo-accounts.txt'), 'utf8');
      expect(accounts).toMatch(/^admin admin@demo\.medcore\.local \S+$/m);

      const file = join(await tempDir(), 'beside.medcore');
      const backup = await run(['backup', file], env);
      expect(backup.code, describeRun(backup)).toBe(0);
      expect((await stat(file)).size).toBeGreaterThan(0);

      const restore = await run(['restore', file, '--force'], env);
      expect(restore.code, describeRun(restore)).toBe(1);
      expect(restore.stderr).toMatch(/^medcore: a MedCore server is running on .*Stop the server/);

      // A second server on the same port: one line naming it.
      const taken = await run(['serve'], cliEnv({ DATA_DIR: await tempDir(), PORT: String(port) }));
      expect(taken.code, describeRun(taken)).toBe(1);
      expect(taken.stderr).toBe(
        `medcore: port ${port} on 127.0.0.1 is already in use (another MedCore or another ` +
          'program?): stop it or set PORT to a free port\n',
      );
      server.kill('SIGTERM');
      await collect(server);
    },
    TIMEOUT * 3,
  );
});
