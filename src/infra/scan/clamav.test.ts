import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseScanReply } from './clamd-protocol.js';
import {
  ScanAbortedError,
  ScanSizeLimitError,
  ScannerUnavailableError,
  createVirusScanner,
  parseClamdAddress,
} from './clamav.js';
import { VirusFoundError, scanGate } from './gate.js';

const dir = mkdtempSync(join(tmpdir(), 'medcore-clamd-fake-'));
let servers: Server[] = [];
let socketCount = 0;

afterEach(async () => {
  // closeAllConnections is not on net.Server: drop server-side sockets by hand, since a paused
  // one never notices the client leaving and would hold close() open.
  for (const socket of serverSockets) socket.destroy();
  serverSockets.clear();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
});
const serverSockets = new Set<Socket>();

function listen(path: string, onSocket: (socket: Socket) => void): Promise<void> {
  const server = createServer((socket) => {
    serverSockets.add(socket);
    onSocket(socket);
  });
  servers.push(server);
  return new Promise<void>((resolve) => server.listen(path, resolve));
}
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Received {
  command: string;
  frames: number[];
  body: Buffer;
}

/** A stand-in daemon that decodes what the client sends; `answer` decides the reply. */
async function fakeClamd(
  answer: (received: Received, socket: Socket) => void,
): Promise<{ path: string; received: Received[] }> {
  const path = join(dir, `fake-${++socketCount}.sock`);
  const received: Received[] = [];
  await listen(path, (socket) => {
    let buffer = Buffer.alloc(0);
    const state: Received = { command: '', frames: [], body: Buffer.alloc(0) };
    received.push(state);
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      if (state.command === '') {
        const end = buffer.indexOf(0);
        if (end === -1) return;
        state.command = buffer.toString('latin1', 0, end);
        buffer = buffer.subarray(end + 1);
        if (state.command !== 'zINSTREAM') {
          answer(state, socket);
          return;
        }
      }
      while (buffer.length >= 4) {
        const length = buffer.readUInt32BE(0);
        if (buffer.length < 4 + length) return;
        state.frames.push(length);
        state.body = Buffer.concat([state.body, buffer.subarray(4, 4 + length)]);
        buffer = buffer.subarray(4 + length);
        if (length === 0) answer(state, socket);
      }
    });
  });
  return { path, received };
}

/** A stand-in for storage.put's body consumer: records what arrived and whether it ended. */
function storage() {
  const stored = { chunks: [] as Buffer[], ended: false };
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stored.chunks.push(chunk);
      callback();
    },
    final(callback) {
      stored.ended = true;
      callback();
    },
  });
  return { sink, stored };
}

function feed(input: Writable, parts: Buffer[]): Promise<void> {
  return pipeline(Readable.from(parts), input);
}

describe('clamd protocol', () => {
  it('parses addresses', () => {
    expect(parseClamdAddress('/run/clamav/clamd.ctl')).toEqual({ path: '/run/clamav/clamd.ctl' });
    expect(parseClamdAddress('tcp://127.0.0.1:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(parseClamdAddress('tcp://[::1]:3310')).toEqual({ host: '::1', port: 3310 });
    expect(() => parseClamdAddress('tcp://clamav')).toThrow();
    expect(() => parseClamdAddress('http://clamav:3310')).toThrow();
  });

  it('parses replies', () => {
    expect(parseScanReply('stream: OK\0')).toEqual({ clean: true });
    expect(parseScanReply('stream: Win.Test.EICAR_HDB-1 FOUND\0')).toEqual({
      clean: false,
      signature: 'Win.Test.EICAR_HDB-1',
    });
    expect(parseScanReply('INSTREAM size limit exceeded. ERROR')).toBeInstanceOf(
      ScanSizeLimitError,
    );
    expect(parseScanReply('stream: Can not allocate memory ERROR')).toBeInstanceOf(
      ScannerUnavailableError,
    );
  });
});

describe('virus scanner (fake daemon)', () => {
  it('frames chunks with big-endian lengths and a zero terminator', async () => {
    const daemon = await fakeClamd((_, socket) => socket.end('stream: OK\0'));
    const scanner = createVirusScanner({ socket: daemon.path, timeoutMs: 2_000 });
    const scan = scanner.scan();
    const parts = [Buffer.from('hello '), Buffer.alloc(0), Buffer.alloc(300_000, 0x61)];
    await feed(scan.input, parts);
    await expect(scan.result).resolves.toEqual({ clean: true });
    const [received] = daemon.received;
    expect(received?.command).toBe('zINSTREAM');
    // 300,000 bytes go as a 256 KiB frame and the rest; empty chunks are not sent.
    expect(received?.frames).toEqual([6, 262_144, 37_856, 0]);
    expect(received?.body.equals(Buffer.concat(parts))).toBe(true);
  });

  it('reports a finding', async () => {
    const daemon = await fakeClamd((_, socket) => socket.end('stream: Test.Sig FOUND\0'));
    const scan = createVirusScanner({ socket: daemon.path, timeoutMs: 2_000 }).scan();
    await feed(scan.input, [Buffer.from('x')]);
    await expect(scan.result).resolves.toEqual({ clean: false, signature: 'Test.Sig' });
  });

  it('fails quickly when nothing listens', async () => {
    const started = Date.now();
    const scanner = createVirusScanner({ socket: join(dir, 'absent.sock'), timeoutMs: 5_000 });
    const scan = scanner.scan();
    await feed(scan.input, [Buffer.alloc(100_000)]);
    await expect(scan.result).rejects.toBeInstanceOf(ScannerUnavailableError);
    await expect(scanner.ping()).rejects.toBeInstanceOf(ScannerUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('times out on a daemon that never answers', async () => {
    await fakeClamd(() => undefined).then(async (daemon) => {
      const scanner = createVirusScanner({ socket: daemon.path, timeoutMs: 200 });
      const started = Date.now();
      const scan = scanner.scan();
      await feed(scan.input, [Buffer.from('x')]);
      await expect(scan.result).rejects.toBeInstanceOf(ScannerUnavailableError);
      await expect(scanner.ping()).rejects.toThrow(/no answer to PING within 200 ms/);
      expect(Date.now() - started).toBeLessThan(1_000);
    });
  });

  it('times out on a daemon that stops reading, without blocking the input', async () => {
    const path = join(dir, `stalled-${++socketCount}.sock`);
    await listen(path, (socket) => {
      socket.pause();
    });
    const scan = createVirusScanner({ socket: path, timeoutMs: 200 }).scan();
    // Far more than the socket buffers hold; the input must still drain once the scan fails.
    const parts = Array.from({ length: 200 }, () => Buffer.alloc(64 * 1024));
    await feed(scan.input, parts);
    await expect(scan.result).rejects.toThrow(/did not read the content/);
  });

  it('aborts when the input is destroyed', async () => {
    const daemon = await fakeClamd(() => undefined);
    const scan = createVirusScanner({ socket: daemon.path, timeoutMs: 2_000 }).scan();
    scan.input.write(Buffer.from('partial'));
    scan.input.destroy();
    await expect(scan.result).rejects.toBeInstanceOf(ScanAbortedError);
  });

  it('gates a stream: every byte passes, the end waits for a clean verdict', async () => {
    const daemon = await fakeClamd((_, socket) => socket.end('stream: OK\0'));
    const scan = createVirusScanner({ socket: daemon.path, timeoutMs: 2_000 }).scan();
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    const { sink, stored } = storage();
    await pipeline(Readable.from(parts), scanGate(scan, { failOpen: false }), sink);
    await expect(scan.result).resolves.toEqual({ clean: true });
    expect(Buffer.concat(stored.chunks).equals(Buffer.concat(parts))).toBe(true);
    expect(stored.ended).toBe(true);
    expect(daemon.received[0]?.body.equals(Buffer.concat(parts))).toBe(true);
  });

  it('fails the pipeline on a finding before storage sees the end', async () => {
    const daemon = await fakeClamd((_, socket) => socket.end('stream: Test.Sig FOUND\0'));
    const scan = createVirusScanner({ socket: daemon.path, timeoutMs: 2_000 }).scan();
    const { sink, stored } = storage();
    const error = await pipeline(
      Readable.from([Buffer.from('evil')]),
      scanGate(scan, { failOpen: false }),
      sink,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VirusFoundError);
    expect(error).toMatchObject({ signature: 'Test.Sig' });
    expect(stored.ended).toBe(false);
  });

  it('fails closed when the daemon is down, or lets content through when failing open', async () => {
    const socket = join(dir, 'absent.sock');
    const scanner = createVirusScanner({ socket, timeoutMs: 2_000 });
    const parts = () => Readable.from([Buffer.alloc(1_000)]);
    const closed = storage();
    await expect(
      pipeline(parts(), scanGate(scanner.scan(), { failOpen: false }), closed.sink),
    ).rejects.toBeInstanceOf(ScannerUnavailableError);
    expect(closed.stored.ended).toBe(false);
    const open = storage();
    const scan = scanner.scan();
    await pipeline(parts(), scanGate(scan, { failOpen: true }), open.sink);
    expect(open.stored.ended).toBe(true);
    await expect(scan.result).rejects.toBeInstanceOf(ScannerUnavailableError);
  });

  it('aborts the scan when the gated pipeline fails', async () => {
    const daemon = await fakeClamd(() => undefined);
    const scan = createVirusScanner({ socket: daemon.path, timeoutMs: 2_000 }).scan();
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(
      pipeline(failing, scanGate(scan, { failOpen: false }), storage().sink),
    ).rejects.toThrow('client went away');
    await expect(scan.result).rejects.toBeInstanceOf(ScanAbortedError);
  });
});
