import { createCipheriv, randomBytes } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';
import { DecryptStream } from './decrypt-stream.js';
import {
  contentIvOf,
  deriveDocumentKeys,
  sealHeader,
  type DocumentKeys,
} from './encryption-format.js';
import { assertPutKey, assertStorageKey, type DocumentStorage } from './storage.js';

/** The header, then ciphertext as it streams, then the tag. */
function encryptStream(keys: DocumentKeys, storageKey: string): Transform {
  const dataKey = randomBytes(32);
  const head = sealHeader(keys, storageKey, dataKey);
  const cipher = createCipheriv('aes-256-gcm', dataKey, contentIvOf(head));
  cipher.setAAD(head);
  // The cipher holds its own copy; this one need not linger on the heap.
  dataKey.fill(0);
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, cipher.update(chunk));
    },
    flush(callback) {
      this.push(cipher.final());
      callback(null, cipher.getAuthTag());
    },
  });
  stream.push(head);
  return stream;
}

/**
 * Encryption at rest for any driver. Each object is sealed with its own random 256-bit data key
 * (AES-256-GCM); the data key is stored beside the content, wrapped with AES-256-GCM under a
 * key-encryption key derived from DOCUMENTS_ENCRYPTION_KEY with HKDF-SHA256. A fresh data key
 * per object makes nonce reuse impossible however many objects exist, and lets a future key
 * rotation rewrap 85-byte headers instead of re-encrypting content.
 *
 * Object layout, format version 1 (all lengths in bytes):
 *
 *   0  magic "MCDE"                       4
 *   4  format version (1)                 1
 *   5  key id: HKDF(key, "key-id")        8   tells "wrong key" apart from "damaged"
 *  13  wrap IV                           12
 *  25  wrapped data key                  32   AES-256-GCM(KEK, wrap IV), AAD = bytes 0..25 + storage key
 *  57  wrap tag                          16
 *  73  content IV                        12
 *  85  ciphertext                         n   AES-256-GCM(data key, content IV), AAD = bytes 0..85
 *  85+n content tag                      16
 *
 * The storage key is bound into the wrap's AAD, so an object copied or swapped to another key
 * (someone with write access to the bucket exchanging two patients' files) fails to decrypt.
 *
 * GCM authenticates only at the end: the plaintext streamed out of get() is unauthenticated
 * until the stream ends without error. A tampered, truncated or foreign object always ends in
 * an error, never in a clean end. Callers must therefore not forward bytes to a client before
 * a stream has ended cleanly; the documents service reads an object through once and checks
 * its SHA-256 against the database before it streams it to anyone.
 */
export function encryptedStorage(inner: DocumentStorage, key: string): DocumentStorage {
  const keys = deriveDocumentKeys(key);
  return {
    driver: inner.driver,

    async put(storageKey, body: Readable) {
      assertPutKey(storageKey, body);
      const sealed = encryptStream(keys, storageKey);
      // An error in `body` destroys `sealed` with that same error, so the inner driver's put
      // rejects with it and cleans up; if the inner driver gives up, `body` is destroyed in turn.
      pipeline(body, sealed, () => undefined);
      await inner.put(storageKey, sealed);
    },

    async get(storageKey) {
      assertStorageKey(storageKey);
      const raw = await inner.get(storageKey);
      const plain = new DecryptStream(keys, storageKey);
      // Errors reading `raw` surface on `plain`; a consumer abandoning `plain` releases `raw`.
      pipeline(raw, plain, () => undefined);
      return plain;
    },

    delete: (storageKey) => inner.delete(storageKey),
    check: () => inner.check(),
    close: () => inner.close(),
  };
}
