import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { AppContext } from '../../context.js';
import { extractPdf } from './content/pdf.js';
import { searchTextBytes } from './upload-pipeline.js';

/*
 * PDF text for search. pdf.js needs the whole file in memory, so the stored copy is read back
 * and parsed at most two at a time: twenty parallel uploads hold twenty streams,
 * not twenty 10 MB buffers.
 */
const parsing = pLimit(2);

/**
 * The stored bytes in one buffer of the known size: no list of chunks to concatenate (which
 * would hold the file twice), one copy for pdf.js to own.
 */
async function readWhole(stream: Readable, size: number): Promise<Uint8Array> {
  const whole = Buffer.allocUnsafe(size);
  let at = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    if (at + bytes.length > size) throw new Error('stored content is longer than recorded');
    bytes.copy(whole, at);
    at += bytes.length;
  }
  return whole.subarray(0, at);
}

/**
 * Page count and text of a stored PDF. A PDF that cannot be parsed (damaged, encrypted) is still
 * a document: it is kept without text, and the reason is logged.
 */
export async function extractDocumentText(
  ctx: Pick<AppContext, 'storage'>,
  key: string,
  size: number,
  warn: (message: string, error: unknown) => void,
): Promise<{ pageCount: number | null; text: string | null }> {
  return parsing(async () => {
    const bytes = await readWhole(await ctx.storage.get(key), size);
    const result = await extractPdf(bytes, {
      maxTextChars: searchTextBytes,
      timeoutMs: 10_000,
    });
    if (!result.readable) {
      warn(
        `PDF text could not be extracted (${result.reason}); the document is kept without it`,
        new Error(result.detail),
      );
      return { pageCount: null, text: null };
    }
    return { pageCount: result.pageCount, text: result.text };
  });
}
