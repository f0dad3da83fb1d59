import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { encryptedStorage } from './encrypted.js';
import { createS3Storage, type S3StorageOptions } from './s3.js';
import {
  failingSource,
  filesBelow,
  readAll,
  sha256,
  sourceOf,
  storageContract,
} from '../../../test/storage-contract.js';
import { startS3rver, type TestServer } from '../../../test/storage-servers.js';

// s3rver is an npm devDependency: nothing to install in CI. It is started here on a free port.
const started = await startS3rver().then(
  (server) => ({ server }),
  (error: unknown) => ({ error: String(error) }),
);
const server: TestServer | undefined = 'server' in started ? started.server : undefined;
const skipReason = 'error' in started ? `s3rver could not start: ${started.error}` : undefined;

afterAll(async () => {
  await server?.stop();
});

function optionsFor(bucket: string, port = server?.port ?? 0): S3StorageOptions {
  return {
    bucket,
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  };
}

/** A bucket of its own for each suite, created as an operator would (the driver never does). */
async function newBucket(): Promise<{ bucket: string; client: S3Client }> {
  const options = optionsFor(`medcore-${randomUUID().slice(0, 8)}`);
  const client = new S3Client({
    ...options,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: options.bucket }));
  return { bucket: options.bucket, client };
}

// s3rver does not implement AbortMultipartUpload (it answers 204 and keeps the parts), so the
// parts of an aborted upload stay on its disk. Watching what the driver sends tells those apart
// from parts the driver forgot to abort.
const send = vi.spyOn(S3Client.prototype, 'send');
function abortedUploads(): Set<string> {
  const ids = send.mock.calls
    .map(([command]) => command)
    .filter((command) => command instanceof AbortMultipartUploadCommand)
    .map((command) => command.input.UploadId ?? '');
  return new Set(ids);
}

/** Object names, plus every file s3rver keeps (which would show orphaned multipart parts). */
async function listStored(client: S3Client, bucket: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  const names = (listed.Contents ?? []).map((object) => `object:${object.Key ?? ''}`);
  const aborted = abortedUploads();
  const files = (server ? await filesBelow(server.dir) : []).filter((file) => {
    const upload = /\._S3rver_uploads\/([^/]+)\//.exec(file)?.[1];
    return upload === undefined || !aborted.has(upload);
  });
  return [...names, ...files].sort();
}

describe.skipIf(skipReason !== undefined)('s3 driver specifics', () => {
  it('names a missing bucket in check() instead of creating it', async () => {
    const storage = createS3Storage(optionsFor('medcore-missing-bucket'));
    await expect(storage.check()).rejects.toThrow(/bucket "medcore-missing-bucket" does not exist/);
    await storage.close();
  });

  it("rejects a put with the service's own error when the bucket is missing", async () => {
    const storage = createS3Storage(optionsFor('medcore-missing-bucket'));
    const body = sourceOf(randomBytes(1000));
    await expect(storage.put(randomUUID(), body)).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect(body.destroyed).toBe(true);
    await storage.close();
  });

  it('refuses half a credential pair', () => {
    expect(() => createS3Storage({ ...optionsFor('x'), secretAccessKey: undefined })).toThrow(
      /must be set together/,
    );
  });

  it('works under the encryption wrapper, failures included', async () => {
    const { bucket, client } = await newBucket();
    const storage = encryptedStorage(createS3Storage(optionsFor(bucket)), 'k'.repeat(40));
    const key = randomUUID();
    const bytes = randomBytes(7 * 1024 * 1024);
    await storage.put(key, sourceOf(bytes));
    expect(sha256(await readAll(await storage.get(key)))).toBe(sha256(bytes));
    const before = await listStored(client, bucket);
    const error = new Error('too large');
    await expect(storage.put(randomUUID(), failingSource(6 * 1024 * 1024, error))).rejects.toBe(
      error,
    );
    expect(await listStored(client, bucket)).toEqual(before);
    await storage.close();
    client.destroy();
  });
});

// Registered last: its final test stops the server.
storageContract(
  's3 (s3rver)',
  async () => {
    const { bucket, client } = await newBucket();
    return {
      storage: createS3Storage(optionsFor(bucket)),
      listStored: () => listStored(client, bucket),
      stopBackend: async () => {
        client.destroy();
        await server?.stop();
      },
    };
  },
  skipReason,
);
