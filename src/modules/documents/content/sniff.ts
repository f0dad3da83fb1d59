import { Transform, type TransformCallback } from 'node:stream';
import type { DocumentContentType } from '../../../db/schema/documents.js';

/**
 * The content type of an upload is decided from its first bytes only; the file name and the
 * declared type are never consulted (a `.pdf` name on an executable changes nothing).
 */

/**
 * How many bytes to collect before calling `detectContentType` (fewer when the stream ends
 * first). 4 KiB covers every signature we accept and is a fair sample for the text check; the
 * rest of a text file is checked as it streams by `plainTextValidator`.
 */
export const sniffHeadBytes = 4096;

/** Raised (as a stream error) when bytes after the head show the upload is not plain text. */
export class NotPlainTextError extends Error {
  constructor(message = 'The content is not UTF-8 plain text') {
    super(message);
    this.name = 'NotPlainTextError';
  }
}

const pdfMagic = Buffer.from('%PDF-', 'latin1');
const pngMagic = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const jpegMagic = Buffer.from([0xff, 0xd8, 0xff]);

/**
 * C0 controls except tab, LF, FF and CR; DEL; C1 controls (U+0080-U+009F, which only appear in
 * mis-converted text). Checked on decoded text so a C1 character split across chunks is seen.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const forbiddenControl = /[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]/;

function startsWith(head: Buffer, magic: Buffer): boolean {
  return head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
}

/**
 * Whether `bytes` read as UTF-8 text with no forbidden control characters. With `complete`
 * false an incomplete multi-byte character at the very end is allowed: the head buffer may
 * have cut it, and `plainTextValidator` sees the whole stream anyway.
 */
function isPlainText(bytes: Buffer, complete: boolean): boolean {
  // fatal: any malformed sequence throws. The BOM is stripped (ignoreBOM false) so an optional
  // UTF-8 BOM is accepted. UTF-16 is refused on purpose: its BOM (FF FE / FE FF) is not valid
  // UTF-8 and its ASCII range is full of NULs; clinics' text exports are UTF-8 or ASCII, and
  // search and display would otherwise need a transcoding step.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let text: string;
  try {
    text = decoder.decode(bytes, { stream: !complete });
  } catch {
    return false;
  }
  return !forbiddenControl.test(text);
}

/**
 * The allowed content type of an upload from its first bytes, or `undefined` (-> 415).
 *
 * Pass the first `sniffHeadBytes` bytes, or everything when the upload is shorter.
 * `complete` says whether `head` is the whole upload; by default a head shorter than
 * `sniffHeadBytes` is taken as complete (then a cut multi-byte character is refused).
 * An empty upload has no type. For `text/plain` the caller must still pipe the whole content,
 * head included, through `plainTextValidator()`.
 */
export function detectContentType(
  head: Buffer,
  complete: boolean = head.length < sniffHeadBytes,
): DocumentContentType | undefined {
  if (head.length === 0) return undefined;
  if (startsWith(head, pdfMagic)) return 'application/pdf';
  if (startsWith(head, pngMagic)) return 'image/png';
  if (startsWith(head, jpegMagic)) return 'image/jpeg';
  return isPlainText(head, complete) ? 'text/plain' : undefined;
}

/**
 * A pass-through that fails with `NotPlainTextError` as soon as the content stops being UTF-8
 * text (malformed sequence, forbidden control character, or a character cut by the end of the
 * stream), so a binary file with a text-looking head is refused. Feed it the whole content,
 * head included: the decoder keeps state across chunks.
 */
export function plainTextValidator(): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  const check = (bytes: Buffer | undefined): NotPlainTextError | undefined => {
    let text: string;
    try {
      text = bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch {
      return new NotPlainTextError('The content is not valid UTF-8');
    }
    return forbiddenControl.test(text)
      ? new NotPlainTextError('The content contains binary control characters')
      : undefined;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const error = check(chunk);
      if (error) callback(error);
      else callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(check(undefined));
    },
  });
}
