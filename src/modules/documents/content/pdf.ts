/**
 * Page count and text of an uploaded PDF (for the document record and search), read with
 * unpdf's serverless pdf.js build. An unreadable PDF is not an upload error: the document is
 * kept and only lacks page count and text, so the outcome is a result, not an exception.
 */

export interface PdfExtractOptions {
  /** Text beyond this many UTF-16 code units is dropped (`truncated: true`). */
  maxTextChars: number;
  /**
   * Budget for the whole extraction. On expiry before the page count is known the PDF counts as
   * unreadable; after that, the text read so far is returned with `timedOut: true`.
   */
  timeoutMs: number;
}

export type PdfExtraction =
  | { readable: true; pageCount: number; text: string; truncated: boolean; timedOut: boolean }
  | { readable: false; reason: 'encrypted' | 'invalid' | 'timeout'; detail: string };

export const defaultMaxPdfTextChars = 1_000_000;

/** Between pages; form feed would be truer, but plain blank lines index and display better. */
const pageSeparator = '\n\n';

class Timeout extends Error {}

/**
 * Options that keep pdf.js entirely offline and inert. Without them unpdf points the font and
 * CMap URLs at a `pdfjs-dist` install if one is present, and pdf.js would fetch them; with these
 * undefined it reads only the bytes we give it. Non-embedded fonts and CJK CMaps are then not
 * loaded: text from standard 14 fonts still comes out (their encodings are built in); rare
 * CID-keyed text without an embedded CMap may be missing, which we accept.
 */
const offline = {
  isEvalSupported: false,
  disableFontFace: true,
  useSystemFonts: false,
  useWorkerFetch: false,
  useWasm: false,
  enableXfa: false,
  stopAtErrors: false,
  standardFontDataUrl: undefined,
  cMapUrl: undefined,
  iccUrl: undefined,
  wasmUrl: undefined,
  // Errors only: pdf.js otherwise logs a warning line per oddity in the file, to stdout.
  verbosity: 0,
};

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  // Once the race is lost, `promise` still settles (rejects when the task is destroyed).
  promise.catch(() => undefined);
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new Timeout());
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Timeout());
    }, remaining);
  });
  return Promise.race([promise, expired]).finally(() => {
    clearTimeout(timer);
  });
}

/** Drops NULs (PostgreSQL text cannot hold them) and never ends on half a surrogate pair. */
function clean(text: string, max: number): { text: string; truncated: boolean } {
  // eslint-disable-next-line no-control-regex -- removing NUL is the point
  let result = text.replace(/\u0000/g, '');
  const truncated = result.length > max;
  if (truncated) {
    result = result.slice(0, max);
    const last = result.charCodeAt(result.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) result = result.slice(0, -1);
  }
  return { text: result, truncated };
}

interface TextItemLike {
  str?: string;
  hasEOL?: boolean;
}

/**
 * Reads page count and text. `bytes` is copied first: pdf.js may take ownership of (detach) the
 * buffer it is given, and the caller still needs it.
 *
 * pdf.js runs on this thread (no worker in the serverless build). It yields between operations,
 * so the deadline is checked between pages and on every await; a single pathological operation
 * can still hold the event loop longer than `timeoutMs` — run this in a worker thread if that
 * matters.
 */
export async function extractPdf(
  bytes: Uint8Array,
  opts: PdfExtractOptions,
): Promise<PdfExtraction> {
  const deadline = Date.now() + opts.timeoutMs;
  // unpdf and its pdf.js build load with the first PDF upload, not when the service starts.
  const { getResolvedPDFJS } = await import('unpdf');
  const { getDocument } = await getResolvedPDFJS();
  const task = getDocument({ data: new Uint8Array(bytes), ...offline });
  try {
    let pdf;
    try {
      pdf = await withDeadline(task.promise, deadline);
    } catch (error) {
      return unreadable(error);
    }
    const pages: string[] = [];
    let length = 0;
    let timedOut = false;
    for (let number = 1; number <= pdf.numPages && length <= opts.maxTextChars; number++) {
      try {
        const page = await withDeadline(pdf.getPage(number), deadline);
        const content = await withDeadline(page.getTextContent(), deadline);
        const text = (content.items as TextItemLike[])
          .map((item) => (item.str ?? '') + (item.hasEOL === true ? '\n' : ''))
          .join('')
          .trim();
        page.cleanup();
        pages.push(text);
        length += text.length + pageSeparator.length;
      } catch (error) {
        if (error instanceof Timeout) {
          timedOut = true;
          break;
        }
        // One broken page does not make the rest unreadable.
        pages.push('');
      }
    }
    const { text, truncated } = clean(pages.join(pageSeparator).trim(), opts.maxTextChars);
    return { readable: true, pageCount: pdf.numPages, text, truncated, timedOut };
  } finally {
    await task.destroy();
  }
}

function unreadable(error: unknown): PdfExtraction {
  if (error instanceof Timeout) {
    return { readable: false, reason: 'timeout', detail: 'The PDF took too long to open' };
  }
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') {
    return { readable: false, reason: 'encrypted', detail: 'The PDF is password-protected' };
  }
  return { readable: false, reason: 'invalid', detail: `The PDF could not be read: ${message}` };
}
