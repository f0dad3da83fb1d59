import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgDatabase } from './helpers.js';
import { assembleImage } from './image-layout.js';
import {
  nginxBinary,
  parseAccessLog,
  readIfExists,
  startNginx,
  type AccessLine,
} from './nginx-support.js';
import { imageCommand } from './packaging-support.js';

/**
 * Two real MedCore processes on one PostgreSQL database and one Redis, behind a real nginx
 * configured from deploy/nginx.conf: the scaled-out setup of docker-compose.yml, on loopback.
 * Each instance runs the image's start command (the Dockerfile's CMD) from a directory laid out
 * as the image's runtime stage. `startCluster()` gives the URLs of A, B and nginx, a way to kill
 * an instance, and `stop()`, which ends every process and drops the database whatever happened.
 */

/** Why the cluster cannot run here, or undefined when it can. */
export function clusterUnavailable(): string | undefined {
  const missing: string[] = [];
  if (process.env.TEST_DATABASE_URL === undefined) missing.push('TEST_DATABASE_URL');
  if (process.env.TEST_REDIS_URL === undefined) missing.push('TEST_REDIS_URL');
  if (nginxBinary() === undefined) missing.push('nginx (apt-get install nginx)');
  return missing.length === 0 ? undefined : `needs ${missing.join(', ')}`;
}

export type InstanceName = 'a' | 'b';

export interface Instance {
  name: InstanceName;
  url: string;
  port: number;
  process: ChildProcess;
  /** What the process printed (LOG_LEVEL=warn: warnings and errors only). */
  output: () => string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Cluster {
  a: Instance;
  b: Instance;
  /** nginx, in front of both. */
  lb: string;
  databaseUrl: string;
  /** The environment every instance got (secrets included): for a third process, or a restart. */
  env: Record<string, string>;
  /** `node dist/cli.js <args>` from the image layout, on the cluster's database. */
  cli: (args: string[]) => Promise<RunResult>;
  /** Sends `signal` (SIGKILL by default) to an instance and waits until it has exited. */
  kill: (name: InstanceName, signal?: NodeJS.Signals) => Promise<void>;
  /** nginx's access log so far, parsed. */
  accessLog: () => AccessLine[];
  /** Ends nginx and both instances, drops the database, removes the temporary directory. */
  stop: () => Promise<void>;
}

export interface ClusterOptions {
  /** Extra environment for both instances (budgets, SMTP_URL, ...). */
  env?: Record<string, string>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** The image's CMD, run by the Node that runs the tests (20 or 24, as CI chooses). */
function imageArgs(): string[] {
  const [program, ...args] = imageCommand();
  if (program !== 'node') throw new Error(`the image's CMD does not start with node: ${program}`);
  return args;
}

function collect(child: ChildProcess): () => string {
  let output = '';
  const append = (chunk: string) => {
    // Bounded: a crash loop must not fill the test's memory.
    if (output.length < 200_000) output += chunk;
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  return () => output;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => {
      done();
    });
  });
}

async function waitReady(instance: Instance, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (instance.process.exitCode !== null) {
      throw new Error(`instance ${instance.name} exited early:\n${instance.output()}`);
    }
    try {
      const res = await fetch(`${instance.url}/health/ready`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `instance ${instance.name} not ready in ${timeoutMs} ms:\n${instance.output()}`,
      );
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const nginx = nginxBinary();
  const pgBase = process.env.TEST_DATABASE_URL;
  const redisUrl = process.env.TEST_REDIS_URL;
  if (nginx === undefined || pgBase === undefined || redisUrl === undefined) {
    throw new Error(`the cluster ${clusterUnavailable() ?? ''}`);
  }
  const work = await mkdtemp(join(tmpdir(), 'medcore-cluster-'));
  const processes: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [() => rm(work, { recursive: true, force: true })];
  const stop = async () => {
    for (const child of processes) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.all(processes.map(exited));
    // Last in, first out: nginx, then the database, then the files.
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => {
        console.error('cluster cleanup failed', error);
      });
    }
  };

  try {
    const appDir = await assembleImage(join(work, 'app'));
    const database = await createPgDatabase(pgBase);
    cleanups.push(database.drop);
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      JWT_SECRET: randomBytes(48).toString('base64url'),
      MFA_ENCRYPTION_KEY: randomBytes(48).toString('base64url'),
      // As behind the compose file's nginx: the client address comes from X-Forwarded-For.
      TRUST_PROXY: 'true',
      // Migrated once below, as an operator would before starting a fleet.
      MIGRATE_ON_START: 'false',
      // Other test files share this PostgreSQL server.
      DB_POOL_MAX: '10',
      // Counters of this run only, whatever else uses this Redis.
      RATE_LIMIT_KEY_PREFIX: `test:cluster:${randomBytes(5).toString('hex')}:`,
      // One document store for both, as the compose file's shared volume.
      STORAGE_DIR: join(work, 'documents'),
      ...options.env,
    };
    const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? work };

    const cli = (args: string[]): Promise<RunResult> =>
      new Promise((done, reject) => {
        const child = spawn(process.execPath, ['dist/cli.js', ...args], {
          cwd: appDir,
          env: { ...baseEnv, ...env, DATA_DIR: join(work, 'cli'), LOG_LEVEL: 'silent' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        processes.push(child);
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.once('error', reject);
        child.once('close', (code) => {
          done({ code, stdout, stderr });
        });
      });

    const migrated = await cli(['migrate']);
    if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrated.stderr}`);

    const spawnInstance = async (name: InstanceName): Promise<Instance> => {
      const port = await freePort();
      const dataDir = join(work, `data-${name}`);
      await mkdir(dataDir, { recursive: true });
      const child = spawn(process.execPath, imageArgs(), {
        cwd: appDir,
        env: { ...baseEnv, ...env, PORT: String(port), DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      processes.push(child);
      return {
        name,
        port,
        url: `http://127.0.0.1:${port}`,
        process: child,
        output: collect(child),
      };
    };
    const a = await spawnInstance('a');
    const b = await spawnInstance('b');
    // Generous: CI runs other test files beside this one on two cores.
    await Promise.all([waitReady(a, 60_000), waitReady(b, 60_000)]);

    // A directory of its own: nginx's workers (`nobody` under root) cannot enter `work` (0700).
    const nginxDir = await mkdtemp(join(tmpdir(), 'medcore-nginx-'));
    cleanups.push(() => rm(nginxDir, { recursive: true, force: true }));
    const proxy = await startNginx(nginx, {
      port: await freePort(),
      upstreams: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`],
      prefix: nginxDir,
    });
    // Not SIGKILL: nginx's workers would outlive their master. SIGTERM stops them all.
    cleanups.push(proxy.stop);

    return {
      a,
      b,
      lb: proxy.url,
      databaseUrl: database.url,
      env,
      cli,
      kill: async (name, signal = 'SIGKILL') => {
        const child = (name === 'a' ? a : b).process;
        child.kill(signal);
        await exited(child);
      },
      accessLog: () => parseAccessLog(readIfExists(proxy.accessLogFile)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
