import { Duplex } from 'node:stream';
import pLimit from 'p-limit';
import type SharpFunction from 'sharp';
import type { Sharp } from 'sharp';

/**
 * Re-encodes uploaded images so that what we store and serve carries pixels only: camera EXIF
 * (GPS position, device serials, time), XMP, IPTC, ICC profiles and PNG text chunks are all
 * dropped. sharp writes no metadata unless asked to (keepMetadata/withMetadata/keepExif...),
 * which we never do; the tests check the output for each kind.
 */

export type SanitizableImageType = 'image/png' | 'image/jpeg';

export interface ImageSanitizerOptions {
  /**
   * Largest width x height decoded (decompression bombs: a few KB of PNG can declare 10^10
   * pixels). Checked from the header before any pixel is decoded, and again by libvips.
   */
  maxInputPixels: number;
  /** Box the thumbnail fits in, in pixels. */
  thumbnailSize?: number;
  jpegQuality?: number;
}

/** Thumbnails are always JPEG: small, and one type to serve. Transparency is flattened on white. */
export const thumbnailContentType = 'image/jpeg';
export const defaultThumbnailSize = 256;

/** The image declares more pixels than allowed; proposed mapping: 422 `image_too_large`. */
export class ImageTooLargeError extends Error {
  constructor(
    readonly maxPixels: number,
    readonly width?: number,
    readonly height?: number,
  ) {
    const size = width === undefined ? 'too large' : `${width} x ${height ?? 0} pixels`;
    super(`The image is ${size}; at most ${maxPixels} pixels are accepted`);
    this.name = 'ImageTooLargeError';
  }
}

/** Valid magic bytes but no decodable image behind them; proposed mapping: 422. */
export class ImageUnreadableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageUnreadableError';
  }
}

/** The input ended or was destroyed before the image was complete (the upload failed). */
export class ImageAbortedError extends Error {
  constructor() {
    super('The image input was aborted');
    this.name = 'ImageAbortedError';
  }
}

export interface ImageSanitizer {
  /** Write the original bytes in; read the cleaned image out. Fails with the errors above. */
  output: Duplex;
  /**
   * The thumbnail (`thumbnailContentType`), settled once the input has been processed. Rejects
   * with the same error as `output`; a handler is already attached, so ignoring it is safe.
   */
  thumbnail: Promise<Buffer>;
}

/**
 * Images decoded at once per process. A decoded image can take ~150 MB (50 MP RGB), so twenty
 * parallel image uploads must not all decode together; the others wait their turn (libvips uses
 * several threads per image anyway, so throughput hardly changes).
 */
const decoding = pLimit(2);

let loading: Promise<typeof SharpFunction> | undefined;

/**
 * sharp and libvips (~30 MB) are loaded by the first image upload, not when the service starts.
 * libvips' operation cache keeps recent results (up to 50 MB by default) for reuse; every upload
 * is a different image, so it would only hold memory: it is switched off on load.
 */
function loadSharp(): Promise<typeof SharpFunction> {
  loading ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false);
    return sharp;
  });
  return loading;
}

/** Decodes running and waiting now (tests, and a future metrics endpoint). */
export function imageDecodeLoad(): { active: number; waiting: number } {
  return { active: decoding.activeCount, waiting: decoding.pendingCount };
}

const expectedFormat = { 'image/png': 'png', 'image/jpeg': 'jpeg' } as const;

function classify(error: unknown, maxPixels: number): Error {
  if (error instanceof ImageTooLargeError || error instanceof ImageUnreadableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // libvips' own limit check (a header that lied to the metadata read) has no dimensions.
  if (message.includes('exceeds pixel limit')) return new ImageTooLargeError(maxPixels);
  // sharp reports everything as plain Errors; its first line is the useful part.
  return new ImageUnreadableError(`The image could not be read: ${message.split('\n')[0] ?? ''}`, {
    cause: error,
  });
}

/**
 * Checks the header, makes the thumbnail, and returns the cleaned image as a stream (encoded
 * strip by strip for upright images, so it is never whole in memory twice).
 */
async function sanitize(
  input: Buffer,
  type: SanitizableImageType,
  opts: ImageSanitizerOptions,
): Promise<{ image: Sharp; thumbnail: Buffer }> {
  const sharp = await loadSharp();
  // Header only, so no pixel limit here: we compare ourselves and report the dimensions.
  const meta = await sharp(input, { limitInputPixels: false }).metadata();
  // failOn 'error': refuse truncated or corrupt pixel data but tolerate libjpeg warnings (some
  // scanners and phones write slightly-off files that every viewer shows fine). Rotating needs
  // the whole image decoded; upright images (most) are re-encoded strip by strip instead, in a
  // fraction of the memory.
  const rotated = (meta.orientation ?? 1) > 1;
  const load = () =>
    sharp(input, {
      failOn: 'error',
      limitInputPixels: opts.maxInputPixels,
      autoOrient: rotated,
      sequentialRead: true,
    });
  const width = meta.width;
  const height = meta.height;
  if (width * height > opts.maxInputPixels) {
    throw new ImageTooLargeError(opts.maxInputPixels, width, height);
  }
  if (meta.format !== expectedFormat[type]) {
    throw new ImageUnreadableError(
      `Expected a ${expectedFormat[type]} image, found ${meta.format}`,
    );
  }

  let main: Sharp = load();
  if (type === 'image/jpeg') {
    main = main.jpeg({ quality: opts.jpegQuality ?? 90 });
  } else {
    // Lossless, and 16-bit PNGs (exported X-rays, scans) stay 16-bit: sharp would otherwise
    // reduce them to 8 bits. Palette PNGs come out as truecolour (larger, still lossless).
    if (meta.depth === 'ushort') main = main.toColourspace(meta.channels <= 2 ? 'grey16' : 'rgb16');
    main = main.png({ compressionLevel: 9, adaptiveFiltering: true });
  }
  const size = opts.thumbnailSize ?? defaultThumbnailSize;
  const thumb = load()
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 80 });
  // One after the other: two decodes at once would double the peak memory of an upload.
  const thumbnail = await thumb.toBuffer();
  return { image: main, thumbnail };
}

/**
 * A stream that takes an uploaded PNG or JPEG and yields it re-encoded in the same format with
 * EXIF orientation applied and no metadata (JPEG at quality 90, PNG lossless), plus a thumbnail.
 *
 * Memory: libvips needs the whole compressed file, so the input is collected in memory (sharp's
 * own stream mode does the same); the upload size limit bounds it. An upright image is then
 * decoded and re-encoded in strips and streamed out; one that must be rotated is decoded whole
 * (width x height x channels bytes, x2 for 16-bit: 50 MP RGB is ~150 MB). Nothing is decoded
 * before the pixel count is checked.
 */
export function imageSanitizer(
  type: SanitizableImageType,
  opts: ImageSanitizerOptions,
): ImageSanitizer {
  const chunks: Buffer[] = [];
  let settleThumbnail: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  const thumbnail = new Promise<Buffer>((resolve, reject) => {
    settleThumbnail = { resolve, reject };
  });
  thumbnail.catch(() => undefined);
  let done = false;
  const finish = (error: Error | undefined, thumb?: Buffer) => {
    if (done) return;
    done = true;
    if (error) settleThumbnail?.reject(error);
    else if (thumb) settleThumbnail?.resolve(thumb);
  };

  const output = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
    final(callback) {
      const input = Buffer.concat(chunks);
      chunks.length = 0;
      // The decode slot is held until the whole image has been encoded and handed on.
      decoding(async () => {
        const { image, thumbnail: thumb } = await sanitize(input, type, opts);
        await new Promise<void>((resolve, reject) => {
          image.on('data', (data: Buffer) => output.push(data));
          image.once('end', resolve);
          image.once('error', reject);
        });
        return thumb;
      }).then(
        (thumb) => {
          finish(undefined, thumb);
          output.push(null);
        },
        (error: unknown) => {
          const classified = classify(error, opts.maxInputPixels);
          finish(classified);
          output.destroy(classified);
        },
      );
      callback();
    },
    read() {
      // Output is pushed as libvips encodes it (no faster than the encoder, so never piling up
      // beyond the encoded image); the consumer is storage, which keeps pace.
    },
    destroy(error, callback) {
      chunks.length = 0;
      finish(error ?? new ImageAbortedError());
      callback(error);
    },
  });
  return { output, thumbnail };
}
