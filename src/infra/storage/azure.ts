import { BlobServiceClient } from '@azure/storage-blob';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkTimeoutMs, describeCheckFailure } from './check.js';
import {
  assertPutKey,
  assertStorageKey,
  StorageNotFoundError,
  type DocumentStorage,
} from './storage.js';

export interface AzureStorageOptions {
  connectionString: string;
  container: string;
}

/** Blocks are buffered before staging: 4 MiB blocks, two at a time, bound an upload's memory. */
const blockSize = 4 * 1024 * 1024;
const blocksInFlight = 2;

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export function createAzureStorage(options: AzureStorageOptions): DocumentStorage {
  const service = BlobServiceClient.fromConnectionString(options.connectionString, {
    // The default backoff (4 s doubling, four tries) holds a request for half a minute when the
    // account is unreachable; fail within a couple of seconds and let the caller answer 503.
    retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
  });
  // The container is not created here: with a container-scoped SAS the app may lack the right,
  // and its access level and retention are the operator's call. check() names it when missing
  // (and the tests create it on Azurite, as an operator would).
  const container = service.getContainerClient(options.container);
  const blob = (key: string) => container.getBlockBlobClient(key);

  return {
    driver: 'azure',

    async put(key, body: Readable) {
      assertPutKey(key, body);
      let bodyError: Error | undefined;
      body.on('error', (error) => (bodyError ??= error));
      // uploadStream listens for 'data', 'end' and 'error' only, so a body destroyed without an
      // error would leave it waiting forever. Through a pipeline, a premature close becomes an
      // error on the stream it reads.
      const source = new PassThrough();
      const piping = pipeline(body, source).catch((error: unknown) => {
        bodyError ??= error as Error;
      });
      try {
        // Blocks are staged, then committed in one call after the body ended. A failure before
        // the commit leaves only uncommitted blocks, which are invisible (no blob is listed or
        // readable) and which the service discards after a week; an existing blob stays intact.
        await blob(key).uploadStream(source, blockSize, blocksInFlight, {
          blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
        });
      } catch (error) {
        // Decided before we destroy the body ourselves: did the body fail, or the upload?
        const bodyFailed = bodyError !== undefined || body.destroyed;
        source.destroy();
        body.destroy();
        await piping;
        throw bodyFailed ? (bodyError ?? error) : error;
      }
      await piping;
      if (bodyError !== undefined) {
        // Not expected (the commit follows the end of the body), but a partial blob must not stay.
        await blob(key).deleteIfExists();
        throw bodyError;
      }
    },

    async get(key) {
      assertStorageKey(key);
      try {
        const response = await blob(key).download(0);
        const stream = response.readableStreamBody;
        // In Node this is a Readable that transparently resumes a broken download (5 retries).
        if (!(stream instanceof Readable)) throw new Error('Azure returned no body stream');
        return stream;
      } catch (error) {
        if (statusOf(error) === 404) throw new StorageNotFoundError(key);
        throw error;
      }
    },

    async delete(key) {
      assertStorageKey(key);
      await blob(key).deleteIfExists({ deleteSnapshots: 'include' });
    },

    async check() {
      try {
        await container.getProperties({ abortSignal: AbortSignal.timeout(checkTimeoutMs) });
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) {
          throw new Error(`Azure container "${options.container}" does not exist; create it`);
        }
        if (status === 403)
          throw new Error(`Azure container "${options.container}": access denied`);
        throw describeCheckFailure('Azure Blob Storage', error);
      }
    },

    async close() {
      // The SDK holds no timers; its keep-alive sockets are unreferenced when idle.
    },
  };
}
