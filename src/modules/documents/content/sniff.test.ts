import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { peekHead } from './head.js';
import {
  NotPlainTextError,
  detectContentType,
  plainTextValidator,
  sniffHeadBytes,
} from './sniff.js';

const bytes = (...values: number[]) => Buffer.from(values);
const utf8 = (text: string) => Buffer.from(text, 'utf8');

describe('detectContentType', () => {
  it('recognises each allowed type by its magic bytes', () => {
    expect(detectContentType(utf8('%PDF-1.7\n%\xe2\xe3\n1 0 obj'))).toBe('application/pdf');
    expect(
      detectContentType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13)),
    ).toBe('image/png');
    expect(detectContentType(bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46))).toBe(
      'image/jpeg',
    );
    expect(detectContentType(utf8('Blood pressure 120/80\r\n\tpulse 64\f'))).toBe('text/plain');
    expect(detectContentType(utf8('Ärztin: Dr. Łukasiewicz — 体温 37°C 🩺\n'))).toBe('text/plain');
  });

  it('accepts a UTF-8 byte order mark', () => {
    expect(detectContentType(Buffer.concat([bytes(0xef, 0xbb, 0xbf), utf8('hello')]))).toBe(
      'text/plain',
    );
  });

  it('has no type for an empty upload', () => {
    expect(detectContentType(Buffer.alloc(0))).toBeUndefined();
  });

  it('refuses other formats, whatever the file would have been called', () => {
    const refused = {
      pe: Buffer.concat([utf8('MZ'), bytes(0x90, 0, 3, 0, 0, 0, 4, 0)]),
      elf: bytes(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0),
      zip: bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0),
      gif: utf8('GIF89a\x01\x00\x01\x00'),
      htmlWithNul: Buffer.concat([utf8('<html><body>'), bytes(0), utf8('</body></html>')]),
      truncatedPng: bytes(0x89, 0x50, 0x4e, 0x47),
      almostJpeg: bytes(0xff, 0xd8),
      escapeSequence: utf8('\u001b[31mred\u001b[0m'),
      del: utf8('abc\u007f'),
      c1Control: utf8('abc\u0085def'),
      latin1: Buffer.from('café', 'latin1'),
      pdfAfterBinary: Buffer.concat([bytes(0, 0), utf8('%PDF-1.4')]),
    };
    for (const [name, head] of Object.entries(refused)) {
      expect(detectContentType(head), name).toBeUndefined();
    }
  });

  it('looks for a signature at the very start only', () => {
    // pdf.js would tolerate leading junk; we do not, so such a file is whatever its bytes say.
    expect(detectContentType(utf8(' %PDF-1.4 not really'))).toBe('text/plain');
  });

  it('refuses UTF-16, with or without a byte order mark', () => {
    const le = Buffer.from('hello world', 'utf16le');
    expect(detectContentType(Buffer.concat([bytes(0xff, 0xfe), le]))).toBeUndefined();
    expect(detectContentType(le)).toBeUndefined();
    expect(detectContentType(Buffer.concat([bytes(0xfe, 0xff), le.swap16()]))).toBeUndefined();
  });

  it('allows a multi-byte character cut by the end of a full head, not by the end of the file', () => {
    // 4095 ASCII bytes then the first two of the three bytes of "€" (E2 82 AC).
    const full = Buffer.concat([Buffer.alloc(sniffHeadBytes - 1, 0x61), utf8('€')]);
    const head = full.subarray(0, sniffHeadBytes + 1);
    expect(head.length).toBeGreaterThanOrEqual(sniffHeadBytes);
    expect(detectContentType(head)).toBe('text/plain');
    expect(detectContentType(head, true)).toBeUndefined();
    // A short upload is the whole file: there the cut character is an error.
    expect(detectContentType(utf8('price 5€').subarray(0, 8))).toBeUndefined();
    // A cut that could never become valid is refused even in a full head.
    const bad = Buffer.concat([Buffer.alloc(sniffHeadBytes, 0x61), bytes(0xe2, 0x41)]);
    expect(detectContentType(bad)).toBeUndefined();
  });
});

async function validate(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    plainTextValidator(),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

describe('plainTextValidator', () => {
  it('passes text through unchanged, with characters split across chunks', async () => {
    const text = utf8('\ufeffline one — ünïcödé 🩺\nline two\n');
    const chunks = [...text].map((byte) => bytes(byte));
    expect((await validate(chunks)).equals(text)).toBe(true);
  });

  it('fails when a later chunk is binary', async () => {
    const head = Buffer.alloc(sniffHeadBytes, 0x61);
    const binary = bytes(0x4d, 0x5a, 0x90, 0x00, 0x03);
    await expect(validate([head, binary])).rejects.toBeInstanceOf(NotPlainTextError);
    await expect(validate([head, bytes(0xc3, 0x28)])).rejects.toBeInstanceOf(NotPlainTextError);
  });

  it('sees a C1 control character split across chunks', async () => {
    await expect(validate([bytes(0x61, 0xc2), bytes(0x85, 0x61)])).rejects.toBeInstanceOf(
      NotPlainTextError,
    );
  });

  it('fails when the file ends inside a multi-byte character', async () => {
    await expect(validate([utf8('abc'), bytes(0xe2, 0x82)])).rejects.toBeInstanceOf(
      NotPlainTextError,
    );
  });
});

describe('peekHead', () => {
  const chunked = (total: number, size: number) => {
    const data = Buffer.alloc(total);
    for (let i = 0; i < total; i++) data[i] = i % 251;
    const parts: Buffer[] = [];
    for (let i = 0; i < total; i += size) parts.push(data.subarray(i, i + size));
    return { data, parts };
  };
  const collect = async (stream: Readable) => {
    const out: Buffer[] = [];
    for await (const chunk of stream) out.push(chunk as Buffer);
    return Buffer.concat(out);
  };

  it('returns the head and a stream that still yields every byte', async () => {
    const { data, parts } = chunked(20_000, 1_000);
    const peeked = await peekHead(Readable.from(parts));
    expect(peeked.head.length).toBeGreaterThanOrEqual(sniffHeadBytes);
    expect(peeked.complete).toBe(false);
    expect(peeked.head.equals(data.subarray(0, peeked.head.length))).toBe(true);
    expect((await collect(peeked.stream)).equals(data)).toBe(true);
  });

  it('marks a short upload complete and keeps its bytes', async () => {
    const { data, parts } = chunked(100, 30);
    const peeked = await peekHead(Readable.from(parts));
    expect(peeked.complete).toBe(true);
    expect(peeked.head.equals(data)).toBe(true);
    expect((await collect(peeked.stream)).equals(data)).toBe(true);
  });

  it('handles an empty upload and a failing one', async () => {
    const empty = await peekHead(Readable.from([]));
    expect(empty.head.length).toBe(0);
    expect(empty.complete).toBe(true);
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(peekHead(failing)).rejects.toThrow('client went away');
  });
});
