import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** The header of an encrypted object, format version 1; the layout is drawn in encrypted.ts. */
export const encryptionMagic = Buffer.from('MCDE', 'ascii');
export const encryptionFormatVersion = 1;
export const headerLength = 85;
export const tagLength = 16;

const keyIdAt = 5;
const keyIdLength = 8;
const wrapIvAt = keyIdAt + keyIdLength; // 13
const wrappedAt = wrapIvAt + 12; // 25
const contentIvAt = wrappedAt + 32 + tagLength; // 73

export interface DocumentKeys {
  /** Key-encryption key: wraps each object's data key. */
  readonly kek: Buffer;
  /** A public fingerprint of the configured key, stored in headers to name a key mismatch. */
  readonly keyId: Buffer;
}

/** Why an encrypted object could not be read. The message never includes key material. */
export class DocumentDecryptionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DocumentDecryptionError';
  }
}

// A fixed, public salt: the configured key is already required to be high-entropy (>= 32
// characters), and HKDF's salt only has to keep this use apart from other uses of a secret.
const salt = Buffer.from('medcore/documents-at-rest', 'utf8');

export function deriveDocumentKeys(secret: string): DocumentKeys {
  const derive = (info: string, length: number) =>
    Buffer.from(hkdfSync('sha256', secret, salt, info, length));
  return {
    kek: derive('medcore/documents/kek/v1', 32),
    keyId: derive('medcore/documents/key-id/v1', keyIdLength),
  };
}

/** Additional data of the key wrap: the header up to the wrapped key, and the storage key. */
function wrapAad(header: Buffer, storageKey: string): Buffer {
  return Buffer.concat([header.subarray(0, wrappedAt), Buffer.from(storageKey, 'utf8')]);
}

/** A fresh header: `dataKey` wrapped under the KEK, and a random content IV. */
export function sealHeader(keys: DocumentKeys, storageKey: string, dataKey: Buffer): Buffer {
  const prefix = Buffer.concat([
    encryptionMagic,
    Buffer.of(encryptionFormatVersion),
    keys.keyId,
    randomBytes(12),
  ]);
  const wrap = createCipheriv('aes-256-gcm', keys.kek, prefix.subarray(wrapIvAt));
  wrap.setAAD(wrapAad(prefix, storageKey));
  const wrapped = Buffer.concat([wrap.update(dataKey), wrap.final(), wrap.getAuthTag()]);
  return Buffer.concat([prefix, wrapped, randomBytes(12)]);
}

export function contentIvOf(header: Buffer): Buffer {
  return header.subarray(contentIvAt, headerLength);
}

/** Checks a header and unwraps its data key; throws DocumentDecryptionError otherwise. */
export function openHeader(keys: DocumentKeys, storageKey: string, header: Buffer): Buffer {
  if (!header.subarray(0, encryptionMagic.length).equals(encryptionMagic)) {
    throw new DocumentDecryptionError(
      'Stored object is not encrypted (was it stored before DOCUMENTS_ENCRYPTION_KEY was set?)',
    );
  }
  const version = header[encryptionMagic.length];
  if (version !== encryptionFormatVersion) {
    throw new DocumentDecryptionError(`Unknown encryption format version ${String(version)}`);
  }
  if (!header.subarray(keyIdAt, wrapIvAt).equals(keys.keyId)) {
    throw new DocumentDecryptionError(
      'Stored object was encrypted with a different DOCUMENTS_ENCRYPTION_KEY',
    );
  }
  try {
    const unwrap = createDecipheriv('aes-256-gcm', keys.kek, header.subarray(wrapIvAt, wrappedAt));
    unwrap.setAAD(wrapAad(header, storageKey));
    unwrap.setAuthTag(header.subarray(wrappedAt + 32, contentIvAt));
    return Buffer.concat([
      unwrap.update(header.subarray(wrappedAt, wrappedAt + 32)),
      unwrap.final(),
    ]);
  } catch (error) {
    throw new DocumentDecryptionError(
      'Stored object failed authentication (its header was altered, or it belongs to another key)',
      { cause: error },
    );
  }
}
