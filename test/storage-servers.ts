/**
 * Test-only: S3 and Azure emulators started as child processes on a free loopback port, each
 * with its own temporary directory. Children are killed by stop(), when the test process exits,
 * and (through their stdin closing) when the test process dies without running exit hooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestServer {
  readonly port: number;
  /** The emulator's data directory. */
  readonly dir: string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
const startTimeoutMs = 15_000;

// Exits the child when its parent goes away, then hands over to the emulator's own entry point.
const guard = `process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function startChild(
  name: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
) {
  const dir = await mkdtemp(join(tmpdir(), `medcore-${name}-`));
  const child = spawn(process.execPath, ['-e', script, name, ...args], {
    cwd: dir,
    env: { ...process.env, ...env, EMULATOR_DIR: dir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    child.kill('SIGTERM');
    if (!(await waitForExit(child, 2_000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 2_000);
    }
    await rm(dir, { recursive: true, force: true });
  };
  let output = '';
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${name} did not start within ${startTimeoutMs} ms: ${output}`));
      }, startTimeoutMs);
      const onData = (data: Buffer) => {
        output += data.toString();
        const match = ready.exec(output);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with code ${String(code)}: ${output.trim()}`));
      });
    });
    return { port, dir, stop } satisfies TestServer;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** s3rver (an S3 emulator from npm) on 127.0.0.1; path-style addressing, any credentials. */
export function startS3rver(): Promise<TestServer> {
  const script = `${guard}
    const S3rver = require(process.env.S3RVER_MODULE);
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.env.EMULATOR_DIR })
      .run()
      .then((address) => console.log('s3rver listening on port ' + address.port))
      .catch((error) => { console.error(error); process.exit(1); });`;
  return startChild(
    's3rver',
    script,
    [],
    { S3RVER_MODULE: require.resolve('s3rver') },
    /listening on port (\d+)/,
  );
}

/**
 * Azurite's blob service, in memory. --disableTelemetry is required (no data leaves the machine);
 * --skipApiVersionCheck lets a newer SDK talk to it; --loose ignores headers it does not know.
 */
export function startAzurite(): Promise<TestServer> {
  const main = require.resolve('azurite/dist/src/blob/main.js');
  // Azurite parses process.argv from index 2; with -e, argv[1] is the first extra argument.
  const script = `${guard} require(process.env.AZURITE_MAIN);`;
  const args = [
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    '0',
    '--inMemoryPersistence',
    '--extentMemoryLimit',
    '256',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--silent',
  ];
  return startChild(
    'azurite',
    script,
    args,
    { AZURITE_MAIN: main },
    /listens on http:\/\/127\.0\.0\.1:(\d+)/,
  );
}

/** The emulator's well-known development account (public, documented by Microsoft). */
export function azuriteConnectionString(port: number): string {
  return [
    'DefaultEndpointsProtocol=http',
    'AccountName=devstoreaccount1',
    'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
    `BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1`,
  ].join(';');
}
