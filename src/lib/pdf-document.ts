import type PDFDocumentClass from 'pdfkit';

let loading: Promise<typeof PDFDocumentClass> | undefined;

/**
 * pdfkit with its fonts (~24 MB) is loaded by the first PDF export (patient summary or
 * prescription), not when the service starts: most instances never print one.
 */
export function loadPdfDocument(): Promise<typeof PDFDocumentClass> {
  loading ??= import('pdfkit').then((module) => module.default);
  return loading;
}
