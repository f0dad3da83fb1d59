import { buffer } from 'node:stream/consumers';
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
 * Page count and text of a stored PDF. A PDF that cannot be parsed (damaged, encrypted) is still
 * a document: it is kept without text, and the reason is logged.
 */
export async function extractDocumentText(
  ctx: AppContext,
  key: string,
  warn: (message: string, error: unknown) => void,
): Promise<{ pageCount: number | null; text: string | null }> {
  return parsing(async () => {
    const bytes = new Uint8Array(await buffer(await ctx.storage.get(key)));
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
