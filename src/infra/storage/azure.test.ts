import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createAzureStorage } from './azure.js';
import { encryptedStorage } from './encrypted.js';
import {
  failingSource,
  readAll,
  sha256,
  sourceOf,
  storageContract,
} from '../../../test/storage-contract.js';
import {
  azuriteConnectionString,
  startAzurite,
  type TestServer,
} from '../../../test/storage-servers.js';

// Azurite is an npm devDependency: nothing to install in CI. Started here, in memory, on a free port.
const started = await startAzurite().then(
  (server) => ({ server }),
  (error: unknown) => ({ error: String(error) }),
);
const server: TestServer | undefined = 'server' in started ? started.server : undefined;
const skipReason = 'error' in started ? `Azurite could not start: ${started.error}` : undefined;
const connectionString = azuriteConnectionString(server?.port ?? 0);

afterAll(async () => {
  await server?.stop();
});

/** A container of its own for each suite, created as an operator would (the driver never does). */
async function newContainer(): Promise<ContainerClient> {
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(
    `medcore-${randomUUID().slice(0, 8)}`,
  );
  await container.create();
  return container;
}

async function listStored(container: ContainerClient): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  return names.sort();
}

describe.skipIf(skipReason !== undefined)('azure driver specifics', () => {
  it('names a missing container in check() instead of creating it', async () => {
    const storage = createAzureStorage({ connectionString, container: 'medcore-missing' });
    await expect(storage.check()).rejects.toThrow(/container "medcore-missing" does not exist/);
  });

  it("rejects a put with the service's own error when the container is missing", async () => {
    const storage = createAzureStorage({ connectionString, container: 'medcore-missing' });
    const body = sourceOf(randomBytes(1000));
    await expect(storage.put(randomUUID(), body)).rejects.toMatchObject({ statusCode: 404 });
    expect(body.destroyed).toBe(true);
  });

  it('works under the encryption wrapper, failures included', async () => {
    const container = await newContainer();
    const inner = createAzureStorage({ connectionString, container: container.containerName });
    const storage = encryptedStorage(inner, 'k'.repeat(40));
    const key = randomUUID();
    const bytes = randomBytes(5 * 1024 * 1024);
    await storage.put(key, sourceOf(bytes));
    expect(sha256(await readAll(await storage.get(key)))).toBe(sha256(bytes));
    const error = new Error('too large');
    await expect(storage.put(randomUUID(), failingSource(5 * 1024 * 1024, error))).rejects.toBe(
      error,
    );
    expect(await listStored(container)).toEqual([key]);
  });
});

// Registered last: its final test stops the server.
storageContract(
  'azure (Azurite)',
  async () => {
    const container = await newContainer();
    return {
      storage: createAzureStorage({ connectionString, container: container.containerName }),
      listStored: () => listStored(container),
      stopBackend: async () => {
        await server?.stop();
      },
    };
  },
  skipReason,
);
