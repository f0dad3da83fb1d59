import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clamdSkipReason, eicar, startTestClamd, type TestClamd } from '../../../test/clamd.js';
import { ScanSizeLimitError, ScannerUnavailableError, createVirusScanner } from './clamav.js';
import { VirusFoundError, scanGate } from './gate.js';

/**
 * Against a real clamd (test/clamd.ts: a daemon whose only signatures are the EICAR test
 * string's, as a whole-file MD5 and as a body pattern found anywhere).
 */

if (clamdSkipReason !== undefined) {
  console.warn(`Skipping clamd integration tests: ${clamdSkipReason}`);
}

function send(input: NodeJS.WritableStream, parts: Buffer[]): Promise<void> {
  return pipeline(Readable.from(parts), input);
}

describe.skipIf(clamdSkipReason !== undefined)('virus scanner against clamd', () => {
  let clamd: TestClamd | undefined;
  let socket = '';
  let tcp = '';

  beforeAll(async () => {
    clamd = await startTestClamd();
    ({ socket, tcp } = clamd);
  });

  afterAll(async () => {
    await clamd?.stop();
  });

  it('answers PING and VERSION over the unix socket and TCP', async () => {
    await createVirusScanner({ socket, timeoutMs: 2_000 }).ping();
    await createVirusScanner({ socket: tcp, timeoutMs: 2_000 }).ping();
    expect(await createVirusScanner({ socket, timeoutMs: 2_000 }).version()).toMatch(/^ClamAV /);
  });

  it('passes a clean file', async () => {
    const scan = createVirusScanner({ socket, timeoutMs: 5_000 }).scan();
    await send(scan.input, [Buffer.from('Haemoglobin 13.5 g/dL\n'), Buffer.alloc(50_000, 0x20)]);
    await expect(scan.result).resolves.toEqual({ clean: true });
  });

  it('finds the EICAR test file, over either transport', async () => {
    for (const address of [socket, tcp]) {
      const scan = createVirusScanner({ socket: address, timeoutMs: 5_000 }).scan();
      await send(scan.input, [eicar]);
      const verdict = await scan.result;
      expect(verdict.clean).toBe(false);
      if (!verdict.clean) expect(verdict.signature).toMatch(/^MedCore\.Test\.EICAR-(File|Body)/);
    }
  });

  it('finds EICAR in the middle of a larger stream, split across chunks', async () => {
    const content = Buffer.concat([
      Buffer.alloc(300_001, 0x61),
      eicar,
      Buffer.alloc(200_000, 0x62),
    ]);
    // Chunk boundaries fall inside the signature (at 300,001 + 30).
    const parts: Buffer[] = [];
    for (let at = 0; at < content.length; at += 100_010) {
      parts.push(content.subarray(at, at + 100_010));
    }
    const scan = createVirusScanner({ socket, timeoutMs: 5_000 }).scan();
    await send(scan.input, parts);
    const verdict = await scan.result;
    expect(verdict).toEqual({
      clean: false,
      signature: expect.stringMatching(/^MedCore\.Test\.EICAR-Body/) as unknown,
    });
  });

  it('refuses content over StreamMaxLength: a size-limit error, never a verdict', async () => {
    const scan = createVirusScanner({ socket, timeoutMs: 5_000 }).scan();
    const parts = Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 0x61));
    await send(scan.input, parts);
    // clamd answers "INSTREAM size limit exceeded" and hangs up while we are still writing.
    // Usually the answer is read first; sometimes the hang-up resets the connection and the
    // kernel drops the unread answer (seen once in CI). Either way the file is refused, never
    // passed as clean.
    const error: unknown = await scan.result.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(
      error instanceof ScanSizeLimitError || error instanceof ScannerUnavailableError,
      String(error),
    ).toBe(true);
  });

  it('stops a gated upload carrying EICAR before storage sees its end', async () => {
    const scan = createVirusScanner({ socket, timeoutMs: 5_000 }).scan();
    let ended = false;
    const sink = new Writable({
      write: (_chunk, _encoding, callback) => {
        callback();
      },
      final: (callback) => {
        ended = true;
        callback();
      },
    });
    const content = [Buffer.alloc(10_000, 0x61), eicar, Buffer.alloc(10_000, 0x61)];
    const error = await pipeline(
      Readable.from(content),
      scanGate(scan, { failOpen: false }),
      sink,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VirusFoundError);
    expect(ended).toBe(false);
  });

  it('fails fast once the daemon is stopped', async () => {
    await clamd?.stop();
    const started = Date.now();
    for (const address of [socket, tcp]) {
      const scanner = createVirusScanner({ socket: address, timeoutMs: 2_000 });
      const scan = scanner.scan();
      await send(scan.input, [Buffer.from('hello')]);
      await expect(scan.result).rejects.toBeInstanceOf(ScannerUnavailableError);
      await expect(scanner.ping()).rejects.toBeInstanceOf(ScannerUnavailableError);
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
