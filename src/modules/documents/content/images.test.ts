import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  ImageAbortedError,
  ImageTooLargeError,
  ImageUnreadableError,
  imageDecodeLoad,
  imageSanitizer,
  type ImageSanitizerOptions,
  type SanitizableImageType,
} from './images.js';

const opts: ImageSanitizerOptions = { maxInputPixels: 50_000_000 };

async function run(type: SanitizableImageType, input: Buffer, options = opts, chunk = 1_000) {
  const { output, thumbnail } = imageSanitizer(type, options);
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(parts),
    output,
    new Writable({
      write(data: Buffer, _encoding, callback) {
        out.push(data);
        callback();
      },
    }),
  );
  return { image: Buffer.concat(out), thumbnail: await thumbnail };
}

/** Finds the GPS IFD in a raw EXIF block (as sharp's metadata returns it) and reads its tags. */
function gpsTags(exif: Buffer): Map<number, string> | undefined {
  const tiff = exif.subarray(exif.indexOf('Exif\0\0') + 6);
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const entries = (ifd: number) =>
    Array.from({ length: u16(ifd) }, (_, i) => ifd + 2 + i * 12).map((at) => ({
      tag: u16(at),
      at,
    }));
  const pointer = entries(u32(4)).find((entry) => entry.tag === 0x8825);
  if (!pointer) return undefined;
  const tags = new Map<number, string>();
  for (const { tag, at } of entries(u32(pointer.at + 8))) {
    // Short ASCII values (the Ref tags) sit inline in the entry.
    tags.set(tag, tiff.toString('latin1', at + 8, at + 10).replace(/\0.*$/, ''));
  }
  return tags;
}

/** A PNG chunk with its CRC, to add text chunks sharp cannot write and to forge headers. */
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function withTextChunk(png: Buffer, keyword: string, text: string): Buffer {
  // Right after IHDR (8-byte signature + 25-byte chunk), where decoders read ancillary chunks.
  const chunk = pngChunk('tEXt', Buffer.from(`${keyword}\0${text}`, 'latin1'));
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}

const xmp =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Dr Secret</dc:creator>' +
  '</rdf:Description></rdf:RDF></x:xmpmeta>';

describe('imageSanitizer', () => {
  it('strips EXIF GPS, XMP and ICC from a JPEG and applies its orientation', async () => {
    // 400 x 200, tagged "rotate 90° clockwise" (orientation 6): it displays as 200 x 400.
    const input = await sharp({
      create: { width: 400, height: 200, channels: 3, background: '#c04040' },
    })
      .withIccProfile('p3')
      .withMetadata({ orientation: 6 })
      .withExif({
        IFD0: { Make: 'PhoneCo', Model: 'Snap 3000' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' },
      })
      .withXmp(xmp)
      .jpeg()
      .toBuffer();
    const before = await sharp(input).metadata();
    expect(before.format).toBe('jpeg');
    expect(before.orientation).toBe(6);
    expect(before.exif).toBeDefined();
    expect(gpsTags(before.exif ?? Buffer.alloc(0))?.get(1)).toBe('N');
    expect(before.xmp).toBeDefined();
    expect(before.icc).toBeDefined();

    const { image, thumbnail } = await run('image/jpeg', input);
    const after = await sharp(image).metadata();
    expect(after.format).toBe('jpeg');
    expect([after.width, after.height]).toEqual([200, 400]);
    expect(after.orientation).toBeUndefined();
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.iptc).toBeUndefined();
    expect(after.icc).toBeUndefined();
    expect(image.includes('PhoneCo')).toBe(false);
    expect(image.includes('Dr Secret')).toBe(false);

    const thumb = await sharp(thumbnail).metadata();
    expect(thumb.format).toBe('jpeg');
    expect([thumb.width, thumb.height]).toEqual([128, 256]);
    expect(thumb.exif).toBeUndefined();
    expect(thumb.icc).toBeUndefined();
  });

  it('strips text chunks and XMP from a PNG, losslessly', async () => {
    const raw = Buffer.alloc(64 * 48 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 256;
    const png = await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } })
      .withXmp(xmp)
      .png()
      .toBuffer();
    const input = withTextChunk(png, 'Comment', 'Patient: Jane Roe, DOB 1970-01-01');
    const before = await sharp(input).metadata();
    expect(before.comments).toEqual([
      { keyword: 'Comment', text: 'Patient: Jane Roe, DOB 1970-01-01' },
    ]);
    expect(before.xmp).toBeDefined();

    const { image, thumbnail } = await run('image/png', input, opts, 100);
    const after = await sharp(image).metadata();
    expect(after.format).toBe('png');
    expect(after.comments).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(image.includes('Jane Roe')).toBe(false);
    expect((await sharp(image).raw().toBuffer()).equals(raw)).toBe(true);
    // Smaller than the box: not enlarged.
    expect(await sharp(thumbnail).metadata()).toMatchObject({ width: 64, height: 48 });
  });

  it('keeps a 16-bit PNG at 16 bits', async () => {
    const input = await sharp({
      create: { width: 8, height: 8, channels: 3, background: '#123456' },
    })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    const { image } = await run('image/png', input);
    expect(await sharp(image).metadata()).toMatchObject({ depth: 'ushort', channels: 1 });
  });

  it('fits the thumbnail in a 256 px box and flattens transparency', async () => {
    const input = await sharp({
      create: { width: 1000, height: 600, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const { thumbnail } = await run('image/png', input, opts, 64_000);
    const meta = await sharp(thumbnail).metadata();
    expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual([
      'jpeg',
      256,
      154,
      false,
    ]);
    const { data } = await sharp(thumbnail).raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(240);
  });

  it('refuses a corrupt image behind valid magic bytes', async () => {
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(3_000, 7)]);
    await expect(run('image/jpeg', jpeg)).rejects.toBeInstanceOf(ImageUnreadableError);
    const png = Buffer.concat([pngSignature, Buffer.alloc(500, 1)]);
    const sanitizer = imageSanitizer('image/png', opts);
    sanitizer.output.on('error', () => undefined);
    sanitizer.output.resume();
    sanitizer.output.end(png);
    await expect(sanitizer.thumbnail).rejects.toBeInstanceOf(ImageUnreadableError);
  });

  it('refuses a truncated JPEG and a PNG declared as a JPEG', async () => {
    const good = await sharp({
      create: { width: 300, height: 300, channels: 3, background: '#888' },
    })
      .jpeg()
      .toBuffer();
    await expect(run('image/jpeg', good.subarray(0, good.length / 2))).rejects.toBeInstanceOf(
      ImageUnreadableError,
    );
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#888' } })
      .png()
      .toBuffer();
    await expect(run('image/jpeg', png)).rejects.toBeInstanceOf(ImageUnreadableError);
  });

  it('refuses a decompression bomb before decoding it', async () => {
    // A PNG header declaring 60000 x 60000 (3.6 gigapixels) over a few bytes of data.
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(60_000, 0);
    ihdr.writeUInt32BE(60_000, 4);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const bomb = Buffer.concat([
      pngSignature,
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', deflateSync(Buffer.alloc(60_001 * 4))),
      pngChunk('IEND', Buffer.alloc(0)),
    ]);
    expect(bomb.length).toBeLessThan(1_000);
    const started = Date.now();
    const error = await run('image/png', bomb).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error).toMatchObject({ width: 60_000, height: 60_000, maxPixels: 50_000_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('applies the pixel limit it is given', async () => {
    const input = await sharp({
      create: { width: 200, height: 100, channels: 3, background: '#888' },
    })
      .png()
      .toBuffer();
    await expect(run('image/png', input, { maxInputPixels: 19_999 })).rejects.toBeInstanceOf(
      ImageTooLargeError,
    );
    await expect(run('image/png', input, { maxInputPixels: 20_000 })).resolves.toBeDefined();
  });

  it('decodes at most two images at once; the others wait their turn', async () => {
    const photo = await sharp({
      create: { width: 2_000, height: 1_500, channels: 3, background: '#3366aa' },
    })
      .jpeg()
      .toBuffer();
    let most = 0;
    let queued = 0;
    const watch = setInterval(() => {
      const load = imageDecodeLoad();
      most = Math.max(most, load.active);
      queued = Math.max(queued, load.waiting);
    }, 1);
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => run('image/jpeg', photo, opts, 64_000)),
      );
      for (const { image } of results) expect((await sharp(image).metadata()).width).toBe(2_000);
    } finally {
      clearInterval(watch);
    }
    expect(most).toBe(2);
    expect(queued).toBeGreaterThan(0);
    expect(imageDecodeLoad()).toEqual({ active: 0, waiting: 0 });
  });

  it('rejects the thumbnail when the upload is aborted', async () => {
    const { output, thumbnail } = imageSanitizer('image/png', opts);
    output.write(pngSignature);
    output.destroy();
    await expect(thumbnail).rejects.toBeInstanceOf(ImageAbortedError);
  });
});
