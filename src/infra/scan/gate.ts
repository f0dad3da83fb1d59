import { Transform, type TransformCallback } from 'node:stream';
import { ScannerUnavailableError } from './clamd-protocol.js';
import type { VirusScan } from './clamav.js';

/** The scanner found something; proposed mapping: 422 `virus_found` (signature in the log). */
export class VirusFoundError extends Error {
  constructor(readonly signature: string) {
    super(`The virus scanner found ${signature}`);
    this.name = 'VirusFoundError';
  }
}

export interface ScanGateOptions {
  /** CLAMAV_FAIL_OPEN: let the content through unscanned when the daemon is unavailable. */
  failOpen: boolean;
}

/**
 * A pass-through that feeds `scan` and holds back the end of the stream until the verdict is
 * in. Placed before storage, an infected upload makes the pipeline fail before storage sees
 * the end, so (by the storage contract) nothing is left stored. Scanner failures that arrive
 * early (daemon down, size limit) fail the pipeline at once instead of after the whole upload.
 *
 * With `failOpen`, ScannerUnavailableError lets the content through; the caller reads
 * `scan.result` afterwards to record `clean` or `not_scanned`.
 */
export function scanGate(scan: VirusScan, opts: ScanGateOptions): Transform {
  const passes = (error: unknown) => opts.failOpen && error instanceof ScannerUnavailableError;
  const gate = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      scan.input.write(chunk, (error) => {
        callback(error ?? null, chunk);
      });
    },
    flush(callback: TransformCallback) {
      scan.input.end();
      scan.result.then(
        (verdict) => {
          callback(verdict.clean ? null : new VirusFoundError(verdict.signature));
        },
        (error: unknown) => {
          callback(passes(error) ? null : (error as Error));
        },
      );
    },
    destroy(error, callback) {
      if (!scan.input.writableFinished) scan.input.destroy();
      callback(error);
    },
  });
  scan.result.catch((error: unknown) => {
    if (!passes(error) && !gate.destroyed) gate.destroy(error as Error);
  });
  return gate;
}
