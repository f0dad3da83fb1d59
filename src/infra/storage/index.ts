import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { encryptedStorage } from './encrypted.js';
import { createLocalStorage } from './local.js';
import type { DocumentStorage } from './storage.js';

export type { DocumentStorage } from './storage.js';
export {
  assertStorageKey,
  StorageIntegrityError,
  StorageNotFoundError,
  storageKeyPattern,
} from './storage.js';

type StorageConfig = Pick<
  Config,
  | 'storageDriver'
  | 'storageDir'
  | 'dataDir'
  | 'documentsEncryptionKey'
  | 's3Bucket'
  | 's3Region'
  | 's3Endpoint'
  | 's3AccessKeyId'
  | 's3SecretAccessKey'
  | 's3ForcePathStyle'
  | 'azureConnectionString'
  | 'azureContainer'
>;

async function createDriver(config: StorageConfig): Promise<DocumentStorage> {
  switch (config.storageDriver) {
    case 'local': {
      if (config.storageDir !== undefined) return createLocalStorage({ dir: config.storageDir });
      // memory:// means "keep nothing": the documents go to a fresh directory removed on close.
      if (config.dataDir.startsWith('memory://')) {
        const dir = await mkdtemp(join(tmpdir(), 'medcore-documents-'));
        return createLocalStorage({ dir, removeOnClose: true });
      }
      return createLocalStorage({ dir: join(config.dataDir, 'documents') });
    }
    // The cloud SDKs (about 20 MB each) load only for the driver configured.
    case 's3': {
      if (config.s3Bucket === undefined)
        throw new Error('S3_BUCKET is required for STORAGE_DRIVER=s3');
      const { createS3Storage } = await import('./s3.js');
      return createS3Storage({
        bucket: config.s3Bucket,
        region: config.s3Region,
        endpoint: config.s3Endpoint,
        forcePathStyle: config.s3ForcePathStyle,
        accessKeyId: config.s3AccessKeyId,
        secretAccessKey: config.s3SecretAccessKey,
      });
    }
    case 'azure': {
      if (config.azureConnectionString === undefined) {
        throw new Error('AZURE_STORAGE_CONNECTION_STRING is required for STORAGE_DRIVER=azure');
      }
      const { createAzureStorage } = await import('./azure.js');
      return createAzureStorage({
        connectionString: config.azureConnectionString,
        container: config.azureContainer,
      });
    }
  }
}

/**
 * The configured document storage, encrypted at rest when DOCUMENTS_ENCRYPTION_KEY is set.
 * Nothing is contacted here (start-up must not depend on the storage backend being up);
 * readiness asks `check()`.
 */
export async function createStorage(config: StorageConfig): Promise<DocumentStorage> {
  const driver = await createDriver(config);
  const key = config.documentsEncryptionKey;
  return key === undefined ? driver : encryptedStorage(driver, key);
}
