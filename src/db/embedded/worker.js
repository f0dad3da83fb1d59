/**
 * The embedded database's own thread: PGlite (PostgreSQL compiled to WebAssembly) runs here, off
 * the main thread's event loop, and serves the PostgreSQL wire protocol on a unix socket, so the
 * main thread reaches it exactly as it reaches PostgreSQL (node-postgres, drizzle-orm).
 *
 * Plain JavaScript on purpose: the same file runs from src/ in tests and under tsx, and from an
 * installed package, with no TypeScript loader in the thread (tsx would add ~0.6 s to every
 * start). Started only by host.ts, which also documents the messages between the two threads.
 *
 * PGlite is one PostgreSQL backend, so all client connections share one session. They take
 * turns: a connection holds the engine from its first message until the backend is idle again
 * (ReadyForQuery with status 'I', after a simple query or a Sync outside a transaction), so one
 * connection's extended-protocol exchange or transaction never interleaves with another's. The
 * others wait in arrival order. A connection that goes away while holding the engine has its
 * exchange synced and its transaction rolled back.
 */
import { Blob, Buffer } from 'node:buffer';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import process from 'node:process';
import { setImmediate } from 'node:timers';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

/** @typedef {import('node:net').Socket} Socket */

/**
 * @typedef {object} WorkerInput
 * @property {string} dataDir "memory://" or the directory PGlite keeps its files in
 * @property {string[]} settings PostgreSQL settings as `name=value`, passed as `-c` options
 * @property {string} socketPath where to listen (a unix socket path)
 * @property {WebAssembly.Module} [pgliteWasmModule] compiled by the host, shared by every thread
 * @property {WebAssembly.Module} [initdbWasmModule]
 * @property {string} [template] a data directory tarball (template.ts) a fresh database starts from
 */

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);
const ROLLBACK = new Uint8Array(Buffer.from('Q\0\0\0\x0dROLLBACK\0', 'latin1'));

const port = parentPort;
if (port === null) throw new Error('worker.js runs as a worker thread');
/** @type {WorkerInput} */
const input = workerData;

class Connection {
  /** @param {Socket} socket */
  constructor(socket) {
    this.socket = socket;
    /** @type {Buffer} */
    this.buffer = Buffer.alloc(0);
    this.started = false;
    this.closed = false;
  }

  /** @param {Buffer} data */
  append(data) {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
  }

  /**
   * The complete messages at the head of the buffer, or null when none is complete. Packets of
   * the startup phase that PGlite has no answer for are answered here; a Terminate closes.
   * @returns {Buffer | null}
   */
  take() {
    const buffer = this.buffer;
    if (!this.started) {
      if (buffer.length < 8) return null;
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return null;
      const code = buffer.readInt32BE(4);
      this.buffer = buffer.subarray(length);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.socket.write('N');
        return this.take();
      }
      if (code === CANCEL_REQUEST) {
        // One backend and nothing to signal: the query runs to its end.
        this.close();
        return null;
      }
      this.started = true;
      // PGlite recognises a startup packet only when it comes alone.
      return buffer.subarray(0, length);
    }
    let end = 0;
    while (end + 5 <= buffer.length) {
      if (buffer[end] === TERMINATE) {
        this.close();
        break;
      }
      const next = end + 1 + buffer.readInt32BE(end + 1);
      if (next > buffer.length) break;
      end = next;
    }
    if (end === 0) return null;
    this.buffer = buffer.subarray(end);
    return buffer.subarray(0, end);
  }

  close() {
    this.closed = true;
    this.buffer = Buffer.alloc(0);
    this.socket.destroy();
  }
}

/** A new database starts from the template (initdb and migrations done) when there is one. */
const fresh =
  input.dataDir.startsWith('memory://') || !existsSync(join(input.dataDir, 'PG_VERSION'));
const template =
  fresh && input.template !== undefined ? new Blob([readFileSync(input.template)]) : undefined;

const db = new PGlite(input.dataDir, {
  extensions: { pg_trgm, btree_gist },
  ...(template && { loadDataDir: template }),
  ...(input.pgliteWasmModule && { pgliteWasmModule: input.pgliteWasmModule }),
  ...(input.initdbWasmModule && { initdbWasmModule: input.initdbWasmModule }),
  startParams: [...PGlite.defaultStartParams, ...input.settings.flatMap((s) => ['-c', s])],
});

/** The connection whose exchange or transaction is open, if any. */
/** @type {Connection | null} */
let owner = null;
/** Connections with data, waiting for the engine, in arrival order. */
/** @type {Connection[]} */
const waiting = [];
let pumping = false;
let stopping = false;

/** @param {Connection} conn */
function wake(conn) {
  if (conn !== owner && !waiting.includes(conn)) waiting.push(conn);
  if (!pumping) {
    pumping = true;
    setImmediate(turn);
  }
}

/** The next connection and its batch, or null when every connection waits for its client. */
function next() {
  for (;;) {
    if (owner !== null) {
      const batch = owner.closed ? null : owner.take();
      if (batch !== null) return { conn: owner, batch };
      if (!owner.closed) return null;
      abandon();
      continue;
    }
    const conn = waiting.shift();
    if (conn === undefined) return null;
    if (conn.closed) continue;
    const batch = conn.take();
    if (batch !== null) return { conn, batch };
  }
}

/** Ends the exchange and the transaction that a vanished owner left open. */
function abandon() {
  owner = null;
  db.execProtocolRawSync(SYNC);
  if (db.isInTransaction()) db.execProtocolRawSync(ROLLBACK);
}

/** Runs one batch, then yields to the event loop so responses go out and requests come in. */
async function pump() {
  const work = stopping ? null : next();
  if (work === null) {
    pumping = false;
    return;
  }
  const { conn, batch } = work;
  owner = conn;
  // The response goes out in pieces of up to ~64 KB: a large result is not held twice.
  /** @type {Buffer[]} */
  let pieces = [];
  let size = 0;
  let tail = Buffer.alloc(0);
  const flush = () => {
    if (size === 0) return;
    const out = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, size);
    pieces = [];
    size = 0;
    tail = Buffer.concat([tail, out.subarray(-6)]).subarray(-6);
    if (!conn.closed) conn.socket.write(out);
  };
  await db.execProtocolRawStream(batch, {
    syncToFs: false,
    onRawData: (data) => {
      // A view into PGlite's buffer, reused by the next call: copied.
      pieces.push(Buffer.from(data));
      size += data.length;
      if (size >= 65_536) flush();
    },
  });
  flush();
  if (isIdle(tail)) {
    owner = null;
    if (conn.buffer.length > 0 && !conn.closed) waiting.push(conn);
  }
  setImmediate(turn);
}

/**
 * Whether a response ends with ReadyForQuery, status idle ('Z', length 5, 'I').
 * @param {Buffer} tail the response's last 6 bytes
 */
function isIdle(tail) {
  return (
    tail.length === 6 &&
    tail[0] === READY_FOR_QUERY &&
    tail.readInt32BE(1) === 5 &&
    tail[5] === IDLE
  );
}

function turn() {
  pump().catch((/** @type {unknown} */ error) => {
    // The backend is in an unknown state (a WebAssembly trap, say): end the thread with the
    // error, so the host fails every connection instead of serving from a broken engine.
    process.nextTick(() => {
      throw error;
    });
  });
}

/**
 * One full collection after start-up. A new data directory's initdb leaves its own WebAssembly
 * instance behind as garbage (hundreds of MB resident), and this thread allocates too little for
 * V8 to collect it soon on its own.
 */
function collectGarbage() {
  setFlagsFromString('--expose-gc');
  const gc = /** @type {() => void} */ (runInNewContext('gc'));
  setFlagsFromString('--no-expose-gc');
  gc();
}

const connections = new Set();
const server = createServer((socket) => {
  const conn = new Connection(socket);
  connections.add(conn);
  socket.setNoDelay(true);
  socket.on('data', (data) => {
    if (conn.closed) return;
    conn.append(data);
    wake(conn);
  });
  const gone = () => {
    connections.delete(conn);
    if (conn.closed) return;
    conn.closed = true;
    conn.buffer = Buffer.alloc(0);
    if (conn === owner) wake(conn);
  };
  socket.on('close', gone);
  socket.on('error', gone);
});

async function start() {
  await db.waitReady;
  collectGarbage();
  rmSync(input.socketPath, { force: true });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(input.socketPath, () => resolve(undefined));
  });
  chmodSync(input.socketPath, 0o600);
  port?.postMessage({ type: 'ready' });
}

async function stop() {
  stopping = true;
  await new Promise((resolve) => {
    server.close(() => resolve(undefined));
    for (const conn of connections) conn.close();
  });
  await db.close();
  rmSync(input.socketPath, { force: true });
  port?.postMessage({ type: 'closed' });
  port?.close();
}

port.on('message', (/** @type {{ type: string }} */ message) => {
  if (message.type === 'close') void stop();
});

await start();
