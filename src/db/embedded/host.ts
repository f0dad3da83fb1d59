import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { rootDir } from '../paths.js';

/**
 * Starts PGlite in a worker thread that serves the PostgreSQL wire protocol on a unix socket
 * (see worker.js), so queries run off the main thread's event loop and the main thread connects
 * with node-postgres, as to PostgreSQL.
 *
 * Messages between the threads: the host sends `{ type: 'close' }`; the worker answers
 * `{ type: 'ready' }` once it listens and `{ type: 'closed' }` once PGlite is closed. Anything
 * else that ends the thread (a failed start, a WebAssembly trap) arrives as its 'error' event.
 */
export interface EmbeddedDatabase {
  /** A node-postgres connection string for the socket. */
  readonly url: string;
  /** The directory holding the socket (`psql -h` takes it). */
  readonly socketDir: string;
  /** Why the thread stopped without being asked to, once it has. */
  readonly failure: Error | undefined;
  /** Closes PGlite (a clean shutdown) and ends the thread; idempotent. */
  close(): Promise<void>;
  /** Ends the thread at once, as a crash would (for tests); close() still cleans up. */
  kill(): Promise<void>;
}

export interface EmbeddedOptions {
  /** "memory://" or the directory of PGlite's files. */
  dataDir: string;
  /** A private directory for the socket (created 0700); a temporary one when unset. */
  socketDir?: string;
  /** PostgreSQL settings, `name=value`. */
  settings: readonly string[];
  /** A data directory tarball a fresh database starts from (template.ts). */
  template?: string | undefined;
  /** Called once if the thread stops without being asked to. */
  onFailure?: (error: Error) => void;
}

/**
 * PostgreSQL settings for the embedded engine, sized for one clinic. PGlite's defaults are a
 * server's (shared_buffers 128MB), and the buffer pool is resident from the start (WebAssembly
 * memory never shrinks). Pages that miss it come from the OS page cache, a cheap read: with
 * 100,000 patients, 16MB served a list + search load as fast as 32MB, 22-40 MB lighter.
 * PGlite cannot time statements out (no signals in WebAssembly): node-postgres' client-side
 * query timeout is what ends a request's wait.
 */
export const embeddedSettings: readonly string[] = [
  'shared_buffers=16MB',
  // Index builds (migrations, restore) would otherwise grow the heap by 64MB for good.
  'maintenance_work_mem=16MB',
];

// The worker is plain JavaScript, read from src/ (like the migrations) by both src/ and dist/.
const workerFile = join(rootDir, 'src', 'db', 'embedded', 'worker.js');
// node-postgres finds the socket as `${host}/.s.PGSQL.${port}`.
const SOCKET_NAME = '.s.PGSQL.5432';
// sun_path holds 108 bytes on Linux, 104 on macOS, terminator included.
const MAX_SOCKET_PATH = 103;
const CLOSE_TIMEOUT_MS = 30_000;

function socketDirFor(preferred: string | undefined): { dir: string; temporary: boolean } {
  if (preferred !== undefined && join(preferred, SOCKET_NAME).length <= MAX_SOCKET_PATH) {
    mkdirSync(preferred, { recursive: true, mode: 0o700 });
    // Only this user may connect: the socket has no password.
    chmodSync(preferred, 0o700);
    return { dir: preferred, temporary: false };
  }
  return { dir: mkdtempSync(join(tmpdir(), 'medcore-db-')), temporary: true };
}

/** A compiled WebAssembly.Module (the project's type libraries do not declare WebAssembly). */
type WasmModule = object;
const wasm = (globalThis as unknown as { WebAssembly: { compile(b: Buffer): Promise<WasmModule> } })
  .WebAssembly;

interface WasmModules {
  pgliteWasmModule: WasmModule;
  initdbWasmModule: WasmModule;
}

let compiled: Promise<WasmModules | undefined> | undefined;

/**
 * PGlite's WebAssembly, compiled once per process and handed to every thread: a process that
 * opens the embedded database again (the tests build dozens of apps) skips the compilation, and
 * the threads share the machine code.
 */
function wasmModules(): Promise<WasmModules | undefined> {
  compiled ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const compile = async (file: string) => wasm.compile(await readFile(join(dist, file)));
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      compile('pglite.wasm'),
      compile('initdb.wasm'),
    ]);
    return { pgliteWasmModule, initdbWasmModule };
  })().catch(() => undefined); // PGlite then finds and compiles its files itself
  return compiled;
}

/** The node-postgres connection string for a socket directory. */
export function socketUrl(dir: string): string {
  return `postgres://postgres@localhost/template1?host=${encodeURIComponent(dir)}`;
}

export async function startEmbeddedDatabase(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const socket = socketDirFor(options.socketDir);
  const socketPath = join(socket.dir, SOCKET_NAME);
  const modules = await wasmModules();
  const worker = new Worker(workerFile, {
    workerData: {
      dataDir: options.dataDir,
      settings: options.settings,
      socketPath,
      template: options.template,
      ...modules,
    },
    // The thread's own JavaScript is small (socket buffers and the queue): V8's default young
    // generation (16 MB resident here) is mostly room it never needs. 6 MB: 2 MB semi-spaces.
    resourceLimits: { maxYoungGenerationSizeMb: 6 },
    // Its own stdout/stderr would keep the process alive and PGlite prints nothing we need.
    stdout: false,
    stderr: false,
  });

  let failure: Error | undefined;
  // Until 'ready', an error is the start's own (thrown below); after close(), expected.
  let running = false;
  let closing = false;
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      resolve();
    });
  });
  const fail = (error: Error) => {
    if (failure !== undefined || !running || closing) return;
    failure = error;
    options.onFailure?.(error);
  };
  worker.on('error', fail);
  worker.once('exit', (code) => {
    fail(new Error(`the embedded database thread exited (code ${code})`));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== 'ready') return;
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number) => {
        reject(new Error(`the embedded database thread exited (code ${code})`));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', onExit);
    });
  } catch (error) {
    closing = true;
    await worker.terminate();
    if (socket.temporary) rmSync(socket.dir, { recursive: true, force: true });
    throw error;
  }
  running = true;
  // Like a pool's sockets, the thread alone does not keep the process alive.
  worker.unref();

  let closed: Promise<void> | undefined;
  const close = async () => {
    closing = true;
    worker.ref();
    if (failure === undefined) {
      const done = new Promise<void>((resolve) => {
        worker.on('message', (message: { type: string }) => {
          if (message.type === 'closed') resolve();
        });
      });
      worker.postMessage({ type: 'close' });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        exited,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
    }
    await worker.terminate();
    await exited;
    if (socket.temporary) rmSync(socket.dir, { recursive: true, force: true });
    else rmSync(socketPath, { force: true });
  };

  return {
    url: socketUrl(socket.dir),
    socketDir: socket.dir,
    get failure() {
      return failure;
    },
    close: () => (closed ??= close()),
    kill: async () => {
      await worker.terminate();
    },
  };
}
