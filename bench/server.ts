import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasExited, repoRoot, track } from './processes.js';

/** The account bench/generate-patients.ts creates for benchmark clients. */
export const benchAdmin = {
  email: 'bench-admin@bench.medcore.local',
  password: 'bench admin passphrase',
};

/**
 * Starts the built server (dist/) as a separate process, so the load generator in this process
 * never competes with it for the event loop. Uses PostgreSQL when BENCH_DATABASE_URL is set,
 * otherwise a fresh embedded data directory (extraEnv may override both; an empty DATABASE_URL
 * means the embedded database). The process is killed if this one exits first.
 */
export async function startServer(
  port: number,
  extraEnv: Record<string, string> = {},
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const dataDir = extraEnv.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'medcore-bench-'));
  const child: ChildProcess = spawn(process.execPath, ['dist/cli.js', 'serve'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      NODE_ENV: 'production',
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
      MFA_ENCRYPTION_KEY: 'bench-mfa-key-bench-mfa-key-bench-mfa-0000',
      // Benchmarks measure throughput; with limits on they would measure 429s.
      RATE_LIMIT_ENABLED: 'false',
      ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
      ...extraEnv,
    },
    // The server's output goes to stderr: stdout carries a benchmark's results.
    stdio: ['ignore', 2, 2],
  });
  track(child);
  const stop = async () => {
    if (!hasExited(child)) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      // Graceful shutdown is bounded; a server that hangs on it is killed.
      const forced = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(forced);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/health`, 60_000, () => hasExited(child));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid: child.pid ?? 0, stop };
}

/** Polls `url` until it answers 2xx; fails early when `died()` says the process is gone. */
export async function waitForHttp(url: string, timeoutMs: number, died: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (died()) throw new Error(`the server for ${url} exited during start-up`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0
    ? ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
    : (sorted[mid] ?? 0);
}
