import { createDecipheriv, type DecipherGCM } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StorageIntegrityError } from './storage.js';
import {
  contentIvOf,
  DocumentDecryptionError,
  headerLength,
  openHeader,
  tagLength,
  type DocumentKeys,
} from './encryption-format.js';

/**
 * Decrypts an object written by encryptedStorage, in constant memory. The GCM tag is the last
 * 16 bytes, and the length is not known in advance, so the last 16 bytes seen are always held
 * back: they are either more ciphertext (when more arrives) or the tag (at the end). Any
 * damage, truncation or wrong key makes the stream error at the latest in flush(); it can never
 * end cleanly after yielding bytes that do not authenticate.
 */
export class DecryptStream extends Transform {
  private headerParts: Buffer[] = [];
  private headerBytes = 0;
  private decipher: DecipherGCM | undefined;
  private held = Buffer.alloc(0);

  constructor(
    private readonly keys: DocumentKeys,
    private readonly storageKey: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    try {
      let data = chunk;
      if (this.decipher === undefined) {
        this.headerParts.push(chunk);
        this.headerBytes += chunk.length;
        if (this.headerBytes < headerLength) {
          callback();
          return;
        }
        const all = Buffer.concat(this.headerParts);
        this.headerParts = [];
        this.decipher = this.start(all.subarray(0, headerLength));
        data = all.subarray(headerLength);
      }
      callback(null, this.decryptHoldingTag(this.decipher, data));
    } catch (error) {
      callback(this.integrityError(error));
    }
  }

  override _flush(callback: TransformCallback) {
    if (this.decipher === undefined || this.held.length < tagLength) {
      callback(this.integrityError(new DocumentDecryptionError('Stored object is truncated')));
      return;
    }
    try {
      this.decipher.setAuthTag(this.held);
      callback(null, this.decipher.final());
    } catch (error) {
      const detail = 'Stored object failed authentication (altered or truncated content)';
      callback(this.integrityError(new DocumentDecryptionError(detail, { cause: error })));
    }
  }

  /** What the documents service treats as corruption; the cause says what exactly failed. */
  private integrityError(cause: unknown): StorageIntegrityError {
    return new StorageIntegrityError(this.storageKey, { cause });
  }

  private start(header: Buffer): DecipherGCM {
    const dataKey = openHeader(this.keys, this.storageKey, header);
    const decipher = createDecipheriv('aes-256-gcm', dataKey, contentIvOf(header));
    dataKey.fill(0);
    decipher.setAAD(header);
    return decipher;
  }

  /** Decrypts all but the last 16 bytes of held + data, and holds those back. */
  private decryptHoldingTag(decipher: DecipherGCM, data: Buffer): Buffer {
    if (data.length >= tagLength) {
      const out = Buffer.concat([
        decipher.update(this.held),
        decipher.update(data.subarray(0, data.length - tagLength)),
      ]);
      // A copy, so the held tail does not keep a whole 64 KiB chunk alive.
      this.held = Buffer.from(data.subarray(data.length - tagLength));
      return out;
    }
    const joined = Buffer.concat([this.held, data]);
    const release = Math.max(0, joined.length - tagLength);
    this.held = joined.subarray(release);
    return decipher.update(joined.subarray(0, release));
  }
}
