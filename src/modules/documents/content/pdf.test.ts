import PDFDocument from 'pdfkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { extractPdf } from './pdf.js';

const opts = { maxTextChars: 1_000_000, timeoutMs: 10_000 };

function makePdf(pages: string[], options: PDFKit.PDFDocumentOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false, ...options });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    doc.on('error', reject);
    for (const text of pages) {
      doc.addPage({ size: 'A4', margin: 48 });
      doc.font('Helvetica').fontSize(9).text(text);
    }
    doc.end();
  });
}

describe('extractPdf', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('reads the page count and the words of every page, without any network access', async () => {
    const fetch = vi.fn(() => Promise.reject(new Error('no network in tests')));
    vi.stubGlobal('fetch', fetch);
    const pdf = await makePdf([
      'Haemoglobin 13.5 g/dL',
      'Referral to cardiology',
      'Discharge letter: ürgent follow-up',
    ]);
    const copy = Buffer.from(pdf);
    const result = await extractPdf(pdf, opts);
    expect(result).toMatchObject({ readable: true, pageCount: 3, truncated: false });
    if (!result.readable) return;
    expect(result.text).toContain('Haemoglobin 13.5 g/dL');
    expect(result.text).toContain('Referral to cardiology');
    expect(result.text).toContain('ürgent follow-up');
    expect(result.text.indexOf('Haemoglobin')).toBeLessThan(result.text.indexOf('Discharge'));
    expect(fetch).not.toHaveBeenCalled();
    // The caller's bytes are still there to be stored.
    expect(pdf.equals(copy)).toBe(true);
  });

  it('truncates long text to the limit', async () => {
    const words = Array.from({ length: 4_000 }, (_, i) => `word${i}`).join(' ');
    const pdf = await makePdf([words]);
    const result = await extractPdf(pdf, { ...opts, maxTextChars: 1_000 });
    expect(result).toMatchObject({ readable: true, truncated: true, timedOut: false });
    if (result.readable) {
      expect(result.pageCount).toBeGreaterThan(1);
      expect(result.text.length).toBeLessThanOrEqual(1_000);
      expect(result.text.startsWith('word0 word1')).toBe(true);
    }
  });

  it('reports garbage behind a PDF signature as invalid', async () => {
    const garbage = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2_000, 0x41)]);
    const result = await extractPdf(garbage, opts);
    expect(result).toMatchObject({ readable: false, reason: 'invalid' });
  });

  it('reports a truncated PDF without crashing', async () => {
    const pdf = await makePdf(['Some text']);
    const result = await extractPdf(pdf.subarray(0, 200), opts);
    // pdf.js may recover a damaged file; either way it must answer, not throw.
    expect(typeof result.readable).toBe('boolean');
  });

  it('reports a password-protected PDF as encrypted', async () => {
    const pdf = await makePdf(['Secret results'], { userPassword: 'hunter2', ownerPassword: 'o' });
    const result = await extractPdf(pdf, opts);
    expect(result).toMatchObject({ readable: false, reason: 'encrypted' });
  });

  it('reads a PDF that only has an owner password (no password needed to open it)', async () => {
    const pdf = await makePdf(['Printable only'], {
      ownerPassword: 'owner',
      permissions: { printing: 'highResolution' },
    });
    const result = await extractPdf(pdf, opts);
    expect(result).toMatchObject({ readable: true, pageCount: 1 });
    if (result.readable) expect(result.text).toContain('Printable only');
  });

  it('gives up when the time budget is spent', async () => {
    const pdf = await makePdf(['x']);
    const result = await extractPdf(pdf, { ...opts, timeoutMs: 0 });
    expect(result).toMatchObject({ readable: false, reason: 'timeout' });
  });
});
