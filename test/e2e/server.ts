import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { artifactsDir } from './paths.js';

/**
 * The service the browser talks to: `node dist/cli.js serve` as its own process, on the embedded
 * database in a fresh DATA_DIR, on a free port, as an operator would run it (NODE_ENV=production,
 * real secrets). Started once for the whole e2e project by global-setup.ts.
 */
export const root = resolve(import.meta.dirname, '..', '..');

export interface RunningServer {
  baseUrl: string;
  /** Runs a medcore command beside the server (same DATA_DIR: through the server's socket). */
  cli: (args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop: () => Promise<void>;
}

/** `node scripts/build.js --if-stale --template`: milliseconds when dist/ is up to date. */
export function buildService(): void {
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [join(root, 'scripts', 'build.js'), '--if-stale', '--template'],
    { cwd: root, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(
      `the build failed (exit ${String(result.status)}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  console.log(`e2e: build checked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * The built service copied aside: other test files (the multi-instance test) recompile dist/
 * while this server runs, and a module it loads late must not be read half-written. dist/ is
 * copied (the console's files and the database template with it); src/ (migrations, the
 * embedded database's worker) and node_modules are only linked, nothing rewrites them.
 */
async function snapshot(work: string): Promise<string> {
  const app = join(work, 'app');
  await mkdir(app, { recursive: true });
  await cp(join(root, 'dist'), join(app, 'dist'), { recursive: true });
  await cp(join(root, 'package.json'), join(app, 'package.json'));
  await symlink(join(root, 'src'), join(app, 'src'), 'dir');
  await symlink(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  return app;
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited (${String(child.exitCode)}): see ${serverLog()}`);
    }
    const ok = await fetch(`${url}/health`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${url}/health did not answer within ${timeoutMs} ms: see ${serverLog()}`);
}

function serverLog(): string {
  return join(artifactsDir, 'e2e-server.log');
}

/**
 * The clinic's time zone for a run: a whole-hour zone where it is about noon now, so a run at any
 * hour of the day has the afternoon of "today" to book in (bookings in the past are refused).
 */
export function noonTimeZone(now = new Date()): string {
  const offset = 12 - now.getUTCHours(); // -11..12
  // The Etc zones' sign is inverted: Etc/GMT-3 is UTC+3.
  if (offset === 0) return 'Etc/GMT';
  return offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

export async function startServer(timeZone: string): Promise<RunningServer> {
  const work = await mkdtemp(join(tmpdir(), 'medcore-e2e-'));
  const app = await snapshot(work);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? work,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    LOG_LEVEL: 'warn',
    DATA_DIR: join(work, 'data'),
    JWT_SECRET: randomBytes(48).toString('base64url'),
    MFA_ENCRYPTION_KEY: randomBytes(48).toString('base64url'),
    // Every day is a working one, and every hour; it is about noon in the clinic's time zone.
    WORKDAYS: '1-7',
    WORKDAY_START: '00:00',
    WORKDAY_END: '23:59',
    CLINIC_TIMEZONE: timeZone,
    // Every e2e file signs several people in from 127.0.0.1 and seeds through the API.
    RATE_LIMIT_AUTH_PER_MIN: '5000',
    RATE_LIMIT_PER_MIN: '50000',
    // No reminder job: nothing here reads the emails.
    REMINDER_LEAD_MINUTES: '0',
  };
  await mkdir(artifactsDir, { recursive: true });
  const log = createWriteStream(serverLog());
  const child = spawn(process.execPath, ['dist/cli.js', 'serve'], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  // Never left running after the test process, however it ends.
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', kill);

  const cli: RunningServer['cli'] = (args) =>
    new Promise((done, reject) => {
      const command = spawn(process.execPath, ['dist/cli.js', ...args], {
        cwd: app,
        env: { ...env, LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      command.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      command.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      command.once('error', reject);
      command.once('close', (code) => {
        done({ code, stdout, stderr });
      });
    });

  const stop = async (): Promise<void> => {
    process.removeListener('exit', kill);
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 15_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    await rm(work, { recursive: true, force: true });
  };

  try {
    // Generous: `npm test` runs the other projects beside this one on two cores.
    await waitForHealth(baseUrl, child, 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, cli, stop };
}
