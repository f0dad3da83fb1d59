import { Readable } from 'node:stream';
import { sniffHeadBytes } from './sniff.js';

export interface PeekedStream {
  /** At least `size` bytes, or the whole content when it is shorter. */
  head: Buffer;
  /** True when `head` is the whole content (pass it on to `detectContentType`). */
  complete: boolean;
  /** The full content, head included, ready to be piped on. */
  stream: Readable;
}

/**
 * Reads the first `size` bytes of `source` without losing them: the type must be known before
 * the upload is sent anywhere, but the bytes then flow on unchanged. The head is pushed back
 * with `unshift` (the stream API's way of un-reading), so `stream` is `source` itself and keeps
 * its backpressure; only when `source` has already ended is a small replacement stream made.
 */
export function peekHead(source: Readable, size: number = sniffHeadBytes): Promise<PeekedStream> {
  // A stream can fail before anyone listens (a multipart form cut short is destroyed by the
  // parser while the part is being handed over); its events have then already fired.
  if (source.destroyed) {
    return Promise.reject(
      source.errored ?? new Error('The upload ended before its content was complete'),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const onReadable = () => {
      let chunk: unknown;
      while (total < size && (chunk = source.read()) !== null) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        chunks.push(bytes);
        total += bytes.length;
      }
      if (total < size) return;
      cleanup();
      const head = Buffer.concat(chunks, total);
      source.unshift(head);
      resolve({ head, complete: false, stream: source });
    };
    const onEnd = () => {
      cleanup();
      const head = Buffer.concat(chunks, total);
      resolve({ head, complete: true, stream: Readable.from(total > 0 ? [head] : []) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    // Destroyed without an error (a client that went away mid-form): no 'end' or 'error' follows.
    const onClose = () => {
      cleanup();
      reject(source.errored ?? new Error('The upload ended before its content was complete'));
    };
    source.on('readable', onReadable);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onClose);
  });
}
