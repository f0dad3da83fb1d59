import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testSecret } from './helpers.js';

/** The CLI as a real process (`node --import tsx src/cli.ts`), from any working directory. */
export const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'src', 'cli.ts');
const tsx = import.meta.resolve('tsx');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const tempDirs: string[] = [];
const children = new Set<ChildProcess>();

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'medcore-start-'));
  tempDirs.push(dir);
  return dir;
}

export async function cleanUp(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Nothing from the developer's shell leaks in (no DATABASE_URL). */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: testSecret,
    ...extra,
  };
}

export function start(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { cwd?: string; stdin?: string } = {},
): ChildProcess {
  const child = spawn(process.execPath, ['--import', tsx, cli, ...args], {
    cwd: options.cwd ?? root,
    env,
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function collect(child: ChildProcess): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { cwd?: string; stdin?: string } = {},
): Promise<RunResult> {
  return collect(start(args, env, options));
}

export function describeRun(result: RunResult): string {
  return `exit ${String(result.code)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Waits until GET url answers 200 (the server process is up). */
export async function waitFor(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
