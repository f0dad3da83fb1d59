import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import {
  ScanAbortedError,
  ScanSizeLimitError,
  ScannerUnavailableError,
  endOfStream,
  frames,
  parseClamdAddress,
  parseScanReply,
  type ScanVerdict,
} from './clamd-protocol.js';

export {
  ScanAbortedError,
  ScanSizeLimitError,
  ScannerUnavailableError,
  parseClamdAddress,
  type ScanVerdict,
} from './clamd-protocol.js';

export interface VirusScannerOptions {
  /** CLAMAV_SOCKET: a unix socket path or `tcp://host:port`. */
  socket: string;
  /**
   * CLAMAV_TIMEOUT_MS, applied to each wait on the daemon: connecting, draining a write, and the
   * verdict after the last byte. Not to the upload as a whole: a slow client is not the daemon's
   * fault (clamd's own ReadTimeout, 120 s by default, bounds idle connections on its side).
   */
  timeoutMs: number;
}

export interface VirusScan {
  /**
   * Write the upload's bytes here as they stream, then end it. It never fails and applies
   * backpressure while the daemon reads, so it can sit in a pipeline next to storage; after a
   * verdict or failure it discards what it is given. Destroying it aborts the scan.
   */
  input: Writable;
  /**
   * The verdict; rejects with ScannerUnavailableError, ScanSizeLimitError or ScanAbortedError.
   * May settle before `input` ends (a size-limit reply, a dead daemon). A handler is attached
   * already, so an abandoned scan never raises an unhandled rejection.
   */
  result: Promise<ScanVerdict>;
}

export interface VirusScanner {
  scan(): VirusScan;
  /** Resolves when the daemon answers PING (readiness checks). */
  ping(): Promise<void>;
  /** The daemon's version line, e.g. `ClamAV 1.4.6/27500/...` (admin system page). */
  version(): Promise<string>;
}

function unavailable(address: string, error: unknown): ScannerUnavailableError {
  if (error instanceof ScannerUnavailableError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ScannerUnavailableError(`clamd at ${address} is unavailable: ${reason}`, {
    cause: error,
  });
}

/** A one-shot timer that fails the exchange unless cleared first. */
function deadline(ms: number, onExpire: () => void): { clear: () => void } {
  const timer = setTimeout(onExpire, ms);
  return {
    clear: () => {
      clearTimeout(timer);
    },
  };
}

/** Sends one command and returns the NUL-terminated reply (PING, VERSION). */
function command(target: NetConnectOpts, opts: VirusScannerOptions, name: string) {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(target);
    const chunks: Buffer[] = [];
    const fail = (error: unknown) => {
      timer.clear();
      socket.destroy();
      reject(unavailable(opts.socket, error));
    };
    const timer = deadline(opts.timeoutMs, () => {
      fail(new Error(`no answer to ${name} within ${opts.timeoutMs} ms`));
    });
    socket.on('error', fail);
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      const reply = Buffer.concat(chunks);
      const end = reply.indexOf(0);
      if (end === -1) return;
      timer.clear();
      socket.destroy();
      resolve(reply.toString('utf8', 0, end).trim());
    });
    socket.on('close', () => {
      fail(new Error(`connection closed before the answer to ${name}`));
    });
    socket.write(`z${name}\0`);
  });
}

function startScan(target: NetConnectOpts, opts: VirusScannerOptions): VirusScan {
  let settle: { resolve: (v: ScanVerdict) => void; reject: (e: Error) => void } | undefined;
  const result = new Promise<ScanVerdict>((resolve, reject) => {
    settle = { resolve, reject };
  });
  result.catch(() => undefined);

  const socket: Socket = connect(target);
  const reply: Buffer[] = [];
  let socketError: Error | undefined;
  let pendingWrite: (() => void) | undefined;
  let done = false;
  const releaseWrite = () => {
    const callback = pendingWrite;
    pendingWrite = undefined;
    callback?.();
  };
  const finish = (outcome: ScanVerdict | Error) => {
    if (done) return;
    done = true;
    timer.clear();
    socket.destroy();
    if (outcome instanceof ScanAbortedError || outcome instanceof ScanSizeLimitError) {
      settle?.reject(outcome);
    } else if (outcome instanceof Error) {
      settle?.reject(unavailable(opts.socket, outcome));
    } else {
      settle?.resolve(outcome);
    }
    // A write waiting for 'drain' goes on, so the input keeps flowing (and discarding).
    releaseWrite();
  };
  let timer = deadline(opts.timeoutMs, () => {
    finish(new Error(`could not connect within ${opts.timeoutMs} ms`));
  });
  // Only the connect timer ends on 'connect': writes before it (queued by the socket) may
  // already have replaced it with a drain or verdict timer, which must keep running.
  let connectTimer = true;
  const restartTimer = (what: string) => {
    connectTimer = false;
    timer.clear();
    timer = deadline(opts.timeoutMs, () => {
      finish(new Error(`${what} within ${opts.timeoutMs} ms`));
    });
  };
  const replyIfComplete = (): boolean => {
    const bytes = Buffer.concat(reply);
    const end = bytes.indexOf(0);
    if (end === -1) return false;
    finish(parseScanReply(bytes.toString('utf8', 0, end)));
    return true;
  };

  socket.on('connect', () => {
    if (connectTimer) timer.clear();
  });
  socket.on('data', (data: Buffer) => {
    reply.push(data);
    replyIfComplete();
  });
  // clamd may answer (size limit) and hang up while we are still writing: our write then fails
  // with EPIPE/ECONNRESET, so the verdict is decided on 'close', from whatever reply arrived.
  socket.on('error', (error) => {
    socketError ??= error;
  });
  socket.on('close', () => {
    if (!replyIfComplete()) finish(socketError ?? new Error('connection closed without a verdict'));
  });
  socket.on('drain', () => {
    if (pendingWrite) timer.clear();
    releaseWrite();
  });
  socket.write('zINSTREAM\0');

  const input = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (done || chunk.length === 0) {
        callback();
        return;
      }
      socket.cork();
      for (const part of frames(chunk)) socket.write(part);
      socket.uncork();
      if (!socket.writableNeedDrain) {
        callback();
        return;
      }
      pendingWrite = callback;
      restartTimer('clamd did not read the content');
    },
    final(callback) {
      if (!done) {
        socket.write(endOfStream);
        restartTimer('no verdict');
      }
      callback();
    },
    destroy(error, callback) {
      // Also called, harmlessly, by autoDestroy after a normal finish.
      if (!input.writableFinished) finish(new ScanAbortedError());
      callback(error);
    },
  });
  return { input, result };
}

/**
 * A clamd client for INSTREAM scans over a unix socket or TCP. One connection per scan (clamd
 * handles them in its own thread pool); nothing is buffered here beyond the socket's own
 * high-water mark, so the scan adds no copy of the file to memory.
 */
export function createVirusScanner(opts: VirusScannerOptions): VirusScanner {
  const target = parseClamdAddress(opts.socket);
  return {
    scan: () => startScan(target, opts),
    ping: async () => {
      const answer = await command(target, opts, 'PING');
      if (answer !== 'PONG') throw unavailable(opts.socket, new Error(`PING answered "${answer}"`));
    },
    version: () => command(target, opts, 'VERSION'),
  };
}
