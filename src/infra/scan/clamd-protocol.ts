import type { NetConnectOpts } from 'node:net';

/**
 * The parts of the clamd protocol we speak (see clamd(8)): commands prefixed with `z` are
 * NUL-terminated and so are the replies; INSTREAM sends the content as chunks framed by a
 * 4-byte big-endian length, ending with a zero length.
 */

export type ScanVerdict = { clean: true } | { clean: false; signature: string };

/** The daemon could not be reached, timed out, hung up, or answered with an error. -> 503 */
export class ScannerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScannerUnavailableError';
  }
}

/**
 * The content is larger than clamd's StreamMaxLength (an operator should set it at or above
 * DOCUMENT_MAX_BYTES). Proposed mapping: 413, failing closed — the file was not scanned.
 */
export class ScanSizeLimitError extends Error {
  constructor() {
    super('The content is larger than the virus scanner accepts (clamd StreamMaxLength)');
    this.name = 'ScanSizeLimitError';
  }
}

/** The scan input was destroyed before it ended (the upload failed for another reason). */
export class ScanAbortedError extends Error {
  constructor() {
    super('The scan was aborted before the content ended');
    this.name = 'ScanAbortedError';
  }
}

/** `tcp://host:port` (IPv6 in brackets) or a unix socket path, as CLAMAV_SOCKET is written. */
export function parseClamdAddress(value: string): NetConnectOpts {
  if (!value.startsWith('tcp://')) {
    if (value.includes('://')) throw new Error(`Unsupported clamd address "${value}"`);
    return { path: value };
  }
  const url = new URL(value);
  const port = Number(url.port);
  if (url.hostname === '' || !Number.isInteger(port) || port < 1) {
    throw new Error(`A clamd TCP address needs a host and a port, got "${value}"`);
  }
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Frames sent per chunk stay modest; clamd reads each into memory before scanning. */
export const maxFrameBytes = 256 * 1024;

export function frames(chunk: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < chunk.length; at += maxFrameBytes) {
    const data = chunk.subarray(at, at + maxFrameBytes);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    out.push(length, data);
  }
  return out;
}

export const endOfStream = Buffer.alloc(4);

/** Reads clamd's answer to INSTREAM, e.g. `stream: OK`, `stream: Eicar-Sig FOUND`. */
export function parseScanReply(reply: string): ScanVerdict | Error {
  const text = reply.replace(/\0+$/, '').trim();
  if (text === 'stream: OK') return { clean: true };
  const found = /^stream: (.+) FOUND$/.exec(text);
  if (found?.[1] !== undefined) return { clean: false, signature: found[1] };
  if (/size limit exceeded/i.test(text)) return new ScanSizeLimitError();
  return new ScannerUnavailableError(`clamd answered "${text.slice(0, 200)}"`);
}
