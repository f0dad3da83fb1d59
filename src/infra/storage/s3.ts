import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { checkTimeoutMs, describeCheckFailure } from './check.js';
import {
  assertPutKey,
  assertStorageKey,
  StorageNotFoundError,
  type DocumentStorage,
} from './storage.js';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** For S3-compatible servers (MinIO, Ceph, R2...); AWS itself needs none. */
  endpoint?: string | undefined;
  forcePathStyle?: boolean;
  /** Both or neither; without them the SDK's default chain (env, profile, instance role) applies. */
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

/**
 * Parts are buffered in memory before they are sent; S3's minimum part size and two parts in
 * flight bound an upload to about 10 MiB of memory. A body smaller than one part is sent as a
 * single PutObject, so the common small document costs one request.
 */
const partSize = 5 * 1024 * 1024;
const queueSize = 2;

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

export function createS3Storage(options: S3StorageOptions): DocumentStorage {
  const { bucket } = options;
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new Error('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together');
  }
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials:
      options.accessKeyId !== undefined && options.secretAccessKey !== undefined
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    // Newer SDKs add CRC checksums to every request and demand them in responses; many
    // S3-compatible servers reject or omit them. Integrity is covered anyway: TLS in transit and
    // the documents service's SHA-256 verification of what it reads back.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A dead endpoint must fail a request quickly rather than hang it; there is deliberately no
    // socket idle timeout, because a slow client reading a download legitimately idles the socket.
    requestHandler: { connectionTimeout: 3_000 },
  });

  return {
    driver: 's3',

    async put(key, body: Readable) {
      assertPutKey(key, body);
      // Always listened to: an error arriving after the upload stopped reading must not crash.
      let bodyError: Error | undefined;
      body.on('error', (error) => (bodyError ??= error));
      try {
        // `Upload` reads the stream part by part; a stream error or premature close ends the
        // iteration with that error, and the multipart upload (if one was started) is aborted
        // (leavePartsOnError: false), so no object and no orphaned parts remain.
        await new Upload({
          client,
          params: { Bucket: bucket, Key: key, Body: body },
          partSize,
          queueSize,
          leavePartsOnError: false,
        }).done();
      } catch (error) {
        body.destroy();
        throw bodyError ?? error;
      }
      if (bodyError !== undefined || !body.readableEnded) {
        // Belt and braces: the SDK completed although the body did not end cleanly, so what was
        // stored is partial. Remove it rather than leave a truncated document under the key.
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        throw bodyError ?? new Error('Document stream ended prematurely');
      }
    },

    async get(key) {
      assertStorageKey(key);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!(response.Body instanceof Readable)) throw new Error('S3 returned no body stream');
        return response.Body;
      } catch (error) {
        if (statusOf(error) === 404) throw new StorageNotFoundError(key);
        throw error;
      }
    },

    async delete(key) {
      assertStorageKey(key);
      // S3 answers 204 whether or not the object existed, which is the idempotence we promise.
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async check() {
      // The bucket is not created here: that needs account-level rights the app should not hold,
      // and a bucket's region, encryption and retention are the operator's decisions.
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }), {
          abortSignal: AbortSignal.timeout(checkTimeoutMs),
        });
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) throw new Error(`S3 bucket "${bucket}" does not exist; create it`);
        if (status === 403) throw new Error(`S3 bucket "${bucket}": access denied`);
        throw describeCheckFailure('S3', error);
      }
    },

    async close() {
      client.destroy();
    },
  };
}
