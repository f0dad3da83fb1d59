import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testSecret } from './helpers.js';

/**
 * Graceful shutdown of the real server process (`node --import tsx src/cli.ts serve`): on
 * SIGTERM readiness turns 503 while requests are still served, a request in flight when the
 * server stops accepting still gets its answer, and the process exits 0.
 */
const root = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolvePromise({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('SIGTERM', () => {
  it('turns readiness 503 first, lets the in-flight request finish, then exits 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'medcore-shutdown-'));
    dirs.push(dataDir);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATA_DIR: dataDir,
        JWT_SECRET: testSecret,
        PORT: '0',
        HOST: '127.0.0.1',
        SHUTDOWN_DELAY_MS: '1500',
        SHUTDOWN_TIMEOUT_MS: '10000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    try {
      let out = '';
      const port = await new Promise<number>((done, fail) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
          if (match) done(Number(match[1]));
        });
        void exited.then(() => {
          fail(new Error(`server exited early:\n${out}`));
        });
      });
      const first = await get(port, '/health/ready');
      expect(first.status, first.body).toBe(200);

      // A request in flight: headers sent, the body not yet.
      const body = '{"email":"nobody@example.test","password":"not the password"}';
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
      const closed = new Promise((done) => socket.once('close', done));
      await new Promise((done) => socket.once('connect', done));
      socket.write(
        'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${String(body.length)}\r\nConnection: close\r\n\r\n` +
          body.slice(0, 10),
      );
      await sleep(200);

      const signalled = performance.now();
      child.kill('SIGTERM');
      await sleep(300);
      // Still serving, but no longer ready: a load balancer stops sending here.
      const ready = await get(port, '/health/ready');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({ failing: ['lifecycle'] });
      expect((await get(port, '/health')).status).toBe(200);

      // After SHUTDOWN_DELAY_MS the server stops accepting; the request in flight completes.
      await sleep(1_700);
      await expect(get(port, '/health')).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
      socket.write(body.slice(10));
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(answer).toContain('invalid_credentials');

      expect(await exited).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(10_000);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
