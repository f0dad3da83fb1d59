import { createHash } from 'node:crypto';
import {
  PassThrough,
  Transform,
  type Duplex,
  type Readable,
  type TransformCallback,
} from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DocumentContentType } from '../../db/schema/documents.js';
import { AppError } from '../../lib/errors.js';
import { peekHead } from './content/head.js';
import { ImageTooLargeError, ImageUnreadableError, imageSanitizer } from './content/images.js';
import { detectContentType, NotPlainTextError, plainTextValidator } from './content/sniff.js';
import {
  ScannerUnavailableError,
  ScanSizeLimitError,
  type VirusScan,
  type VirusScanner,
} from '../../infra/scan/clamav.js';
import { scanGate } from '../../infra/scan/gate.js';
import type { DocumentStorage } from '../../infra/storage/storage.js';

/*
 * The streaming part of an upload: bytes go from the request to storage in one pass, never
 * buffered whole. The head is sniffed first (the type comes from magic bytes, not from the
 * client), then the bytes are counted against the size limit, copied to the virus scanner, cleaned
 * (images lose their metadata; text is checked to really be text), hashed and stored. Any stage
 * failing destroys the pipeline, and the storage driver then leaves nothing under the key.
 */

export interface UploadLimits {
  /** Largest file accepted (DOCUMENT_MAX_BYTES). */
  maxBytes: number;
  /** What is left of the uploader's quota; undefined when there is no quota. */
  quotaLeftBytes: number | undefined;
}

export interface UploadOptions extends UploadLimits {
  /** CLAMAV_FAIL_OPEN: keep files unscanned when the daemon is down (default: refuse). */
  scannerFailOpen: boolean;
  onScannerDown: (error: Error) => void;
}

export interface StoredUpload {
  contentType: DocumentContentType;
  /** Of the stored content, which may differ from the upload (image metadata removed). */
  sizeBytes: number;
  sha256: string;
  /** A small preview, for images. */
  thumbnail: Buffer | undefined;
  /** The beginning of a plain-text file, for search. */
  textHead: string | undefined;
  /** `clean` when a scanner passed it (an infected file fails the pipeline: VirusFoundError). */
  scan: 'clean' | 'not_scanned';
}

/**
 * Largest image decoded (width x height): about 150 MB of pixels for RGB. A few KB of PNG can
 * declare billions of pixels; those are refused from the header, before decoding.
 */
const maxInputPixels = 50_000_000;

/**
 * Text kept from plain-text files for search; the file itself may be larger. PostgreSQL refuses
 * a tsvector over 1 MB, which 1 MB of distinct words exceeds, so the search text is capped well
 * below (documents.text.ts caps PDF text the same way).
 */
export const searchTextBytes = 200_000;

/** Fails the pipeline as soon as more bytes than allowed have passed. */
function sizeLimit(limits: UploadLimits): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      seen += chunk.length;
      if (seen > limits.maxBytes) {
        done(
          new AppError(
            'payload_too_large',
            `The file is larger than the limit of ${limits.maxBytes} bytes`,
          ),
        );
      } else if (limits.quotaLeftBytes !== undefined && seen > limits.quotaLeftBytes) {
        done(
          new AppError(
            'storage_quota_exceeded',
            `The file does not fit in your remaining storage quota (${limits.quotaLeftBytes} bytes left)`,
          ),
        );
      } else {
        done(null, chunk);
      }
    },
  });
}

/** Hashes and counts what is stored; keeps the start of text files for search. */
function digest(keepText: boolean) {
  const hash = createHash('sha256');
  let size = 0;
  const text: Buffer[] = [];
  let textLength = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      if (keepText && textLength < searchTextBytes) {
        const part = chunk.subarray(0, searchTextBytes - textLength);
        text.push(part);
        textLength += part.length;
      }
      done(null, chunk);
    },
  });
  return {
    stream,
    result: () => ({
      sha256: hash.digest('hex'),
      size,
      // A multi-byte character cut at the end becomes U+FFFD; it only affects search.
      text: keepText ? Buffer.concat(text).toString('utf8') : undefined,
    }),
  };
}

/** The type-specific stage: clean images, prove text is text, pass PDFs through. */
function cleaner(type: DocumentContentType) {
  if (type === 'image/png' || type === 'image/jpeg') {
    const image = imageSanitizer(type, { maxInputPixels });
    return { stream: image.output, thumbnail: image.thumbnail };
  }
  if (type === 'text/plain') return { stream: plainTextValidator(), thumbnail: undefined };
  return { stream: new PassThrough(), thumbnail: undefined };
}

/**
 * Streams an uploaded file to `key`. Resolves with what was stored; rejects with an AppError
 * (413, 415, 422) or the storage's or scanner's own error, leaving nothing stored under `key`
 * (the thumbnail is stored by the caller, once the upload is accepted).
 */
export async function streamUpload(
  storage: DocumentStorage,
  scanner: VirusScanner | undefined,
  key: string,
  file: Readable,
  options: UploadOptions,
): Promise<StoredUpload> {
  const {
    head,
    complete,
    stream: whole,
  } = await peekHead(file).catch((error: unknown) => {
    throw cutShort(error);
  });
  const contentType = detectContentType(head, complete);
  if (contentType === undefined) {
    // Stops reading the request: nothing of a refused file is stored or even received.
    file.destroy();
    throw new AppError(
      'unsupported_media_type',
      'Only PDF, PNG, JPEG and plain-text files are accepted (decided from the content, not the name or declared type)',
    );
  }
  const scan = scanner?.scan();
  const clean = cleaner(contentType);
  const hashed = digest(contentType === 'text/plain');
  const stages: Duplex[] = [sizeLimit(options)];
  if (scan !== undefined) stages.push(scanGate(scan, { failOpen: options.scannerFailOpen }));
  stages.push(clean.stream, hashed.stream);
  // The pipeline destroys every stage on the first failure, which also fails the put; a failed
  // put stops the pipeline in turn.
  // Which failed first, the client's stream or one of ours: a form cut short is the client's
  // error (400), a stage's refusal or storage failure is ours to explain (413/415/422/503).
  let first: 'client' | 'server' | undefined;
  whole.once('error', () => (first ??= 'client'));
  for (const stage of stages) stage.once('error', () => (first ??= 'server'));
  const flowing = pipeline([whole, ...stages]).then(() => undefined);
  const writing = storage.put(key, hashed.stream).catch((error: unknown) => {
    first ??= 'server';
    hashed.stream.destroy(error as Error);
    throw error;
  });
  const [flowed, wrote] = await Promise.allSettled([flowing, writing]);
  const failure = first === 'client' ? cutShort(file.errored) : firstFailure(flowed, wrote);
  if (flowed.status === 'rejected' || wrote.status === 'rejected') {
    // The scanner's connection must not outlive a failed upload.
    scan?.input.destroy();
    throw failure;
  }
  const { sha256, size, text } = hashed.result();
  try {
    return {
      contentType,
      sizeBytes: size,
      sha256,
      thumbnail: clean.thumbnail === undefined ? undefined : await clean.thumbnail,
      textHead: text,
      scan: await verdict(scan, options),
    };
  } catch (error) {
    await storage.delete(key).catch(() => undefined);
    throw asProblem(error);
  }
}

/**
 * The scanner's answer. A daemon that is down or broke mid-stream refuses the upload (fail
 * closed) unless CLAMAV_FAIL_OPEN is set; then the file is kept as `not_scanned`.
 */
async function verdict(
  scan: VirusScan | undefined,
  options: UploadOptions,
): Promise<'clean' | 'not_scanned'> {
  if (scan === undefined) return 'not_scanned';
  try {
    // The scan gate let the stream end, so the verdict is clean, or the daemon failed open.
    await scan.result;
    return 'clean';
  } catch (error) {
    if (!(error instanceof ScannerUnavailableError) || !options.scannerFailOpen) throw error;
    options.onScannerDown(error);
    return 'not_scanned';
  }
}

/** The client's stream failed (a form cut short, a connection dropped): nothing was kept. */
function cutShort(error: unknown): AppError {
  return new AppError('bad_request', 'The upload ended before the file was complete', {
    cause: error,
  });
}

/** The content stages' own errors, as the problems a client gets. */
function asProblem(error: unknown): unknown {
  if (error instanceof NotPlainTextError) {
    return new AppError(
      'unsupported_media_type',
      `${error.message}: only PDF, PNG, JPEG and plain-text files are accepted`,
    );
  }
  if (error instanceof ImageTooLargeError || error instanceof ImageUnreadableError) {
    return new AppError('unprocessable', error.message);
  }
  if (error instanceof ScanSizeLimitError) {
    // clamd's StreamMaxLength is below DOCUMENT_MAX_BYTES: the file cannot be checked, so it is
    // not kept; the operator should raise StreamMaxLength.
    return new AppError('payload_too_large', 'The file is larger than the virus scanner accepts');
  }
  return error;
}

/** Our own refusal (413, 415, 422) explains the failure best; otherwise the first error. */
function firstFailure(...results: PromiseSettledResult<unknown>[]): Error {
  const errors = results.flatMap((r) =>
    r.status === 'rejected' ? [asProblem(r.reason as unknown)] : [],
  );
  const chosen = errors.find((error) => error instanceof AppError) ?? errors[0];
  return chosen instanceof Error ? chosen : new Error(String(chosen));
}
