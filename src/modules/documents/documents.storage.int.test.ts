import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  filesUnder,
  newPatient,
  pdfWith,
  sha256,
  tempStorageDir,
  upload,
} from '../../../test/documents-support.js';
import { appSeries } from '../../../test/app-series.js';
import {
  bearer,
  createUser,
  problemOf,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import {
  azuriteConnectionString,
  startAzurite,
  startS3rver,
  type TestServer,
} from '../../../test/storage-servers.js';

/*
 * The whole documents API on each storage configuration: the local driver encrypted at rest,
 * S3 (s3rver) and Azure Blob (Azurite). The emulators are npm devDependencies started here;
 * a backend whose emulator cannot start is skipped with the reason.
 */

const firstKey = 'first-documents-key-0123456789-abcdefghij';
const secondKey = 'second-documents-key-0123456789-abcdefghij';
const marker = 'Pellucidite biopsy result, confidential';

interface DocumentBody {
  id: string;
  sha256: string;
  size_bytes: number;
  encrypted: boolean;
  has_thumbnail: boolean;
  content_type: string;
}

interface Started<T> {
  value?: T;
  skip?: string;
}

async function attempt<T>(what: string, start: () => Promise<T>): Promise<Started<T>> {
  try {
    return { value: await start() };
  } catch (error) {
    const skip = `${what} could not start: ${String(error)}`;
    console.warn(`Skipping document storage tests: ${skip}`);
    return { skip };
  }
}

/** Configuration for the S3 emulator, with a bucket created first as an operator would. */
async function s3Env(server: TestServer): Promise<Record<string, string>> {
  const bucket = `medcore-${randomUUID().slice(0, 8)}`;
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return {
    STORAGE_DRIVER: 's3',
    S3_BUCKET: bucket,
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
  };
}

/** Configuration for Azurite, with its container created first. */
async function azureEnv(server: TestServer): Promise<Record<string, string>> {
  const connectionString = azuriteConnectionString(server.port);
  const container = `medcore-${randomUUID().slice(0, 8)}`;
  await BlobServiceClient.fromConnectionString(connectionString)
    .getContainerClient(container)
    .create();
  return {
    STORAGE_DRIVER: 'azure',
    AZURE_STORAGE_CONNECTION_STRING: connectionString,
    AZURE_STORAGE_CONTAINER: container,
  };
}

// One app at a time on shared data (test/app-series.ts); the first one is encrypted local storage.
const apps = appSeries();
const storageDir = tempStorageDir();
let local: TestApp;
let s3: Started<TestServer>;
let azure: Started<TestServer>;

beforeAll(async () => {
  // The emulators start while the first app migrates its database.
  [local, s3, azure] = await Promise.all([
    apps.open({ STORAGE_DIR: storageDir, DOCUMENTS_ENCRYPTION_KEY: firstKey }),
    attempt('s3rver', startS3rver),
    attempt('Azurite', startAzurite),
  ]);
});

afterAll(async () => {
  await apps.close();
  await Promise.all([s3.value?.stop(), azure.value?.stop()]);
  rmSync(storageDir, { recursive: true, force: true });
});

const get = (t: TestApp, url: string, token: string) =>
  t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(token) });

async function auditActions(t: TestApp, admin: TestUser, patientId: string): Promise<string[]> {
  const res = await get(t, `/admin/audit?patient_id=${patientId}&limit=100`, admin.accessToken);
  return res.json<{ items: { action: string }[] }>().items.map((row) => row.action);
}

/**
 * Upload a text file, a PDF and a PNG; list and search; download each and compare hashes; fetch
 * the PNG's thumbnail; delete one. Returns the uploaded documents for driver-specific checks.
 */
async function fullRoundTrip(t: TestApp, encrypted: boolean) {
  const doctor = await createUser(t.app, 'doctor');
  const patientId = await newPatient(t.app, doctor.accessToken);
  const text = Buffer.from(`${marker}\n`.repeat(200));
  const pdf = await pdfWith(['Discharge summary', 'Quillwort follow-up in two weeks']);
  const png = await sharp({
    create: { width: 640, height: 480, channels: 3, background: { r: 20, g: 120, b: 200 } },
  })
    .png()
    .toBuffer();
  const sent = [
    { filename: 'biopsy.txt', content: text, type: 'text/plain' },
    { filename: 'discharge.pdf', content: pdf, type: 'application/pdf' },
    { filename: 'xray.png', content: png, type: 'image/png' },
  ];
  const docs: DocumentBody[] = [];
  for (const file of sent) {
    const res = await upload(t.app, doctor.accessToken, patientId, file);
    expect(res.statusCode, res.body).toBe(201);
    const doc = res.json<DocumentBody>();
    expect(doc).toMatchObject({ content_type: file.type, encrypted });
    docs.push(doc);
  }
  const [textDoc, pdfDoc, pngDoc] = docs as [DocumentBody, DocumentBody, DocumentBody];
  expect([textDoc.sha256, pdfDoc.sha256]).toEqual([sha256(text), sha256(pdf)]);
  expect(pngDoc.has_thumbnail).toBe(true);

  const list = await get(t, `/patients/${patientId}/documents`, doctor.accessToken);
  expect(list.json<{ items: DocumentBody[] }>().items.map((d) => d.id)).toEqual(
    docs.map((d) => d.id).reverse(),
  );
  const found = await get(t, `/patients/${patientId}/documents?q=quillwort`, doctor.accessToken);
  expect(found.json<{ items: DocumentBody[] }>().items.map((d) => d.id)).toEqual([pdfDoc.id]);

  for (const doc of docs) {
    const content = await get(t, `/documents/${doc.id}/content`, doctor.accessToken);
    expect(content.statusCode, content.body).toBe(200);
    expect(sha256(content.rawPayload)).toBe(doc.sha256);
    expect(content.rawPayload.length).toBe(doc.size_bytes);
  }
  const thumb = await get(t, `/documents/${pngDoc.id}/thumbnail`, doctor.accessToken);
  expect(thumb.statusCode).toBe(200);
  const meta = await sharp(thumb.rawPayload).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 256, 192]);

  const del = await t.app.inject({
    method: 'DELETE',
    url: `/api/v1/documents/${pdfDoc.id}`,
    headers: bearer(doctor.accessToken),
  });
  expect(del.statusCode).toBe(204);
  expect((await get(t, `/documents/${pdfDoc.id}/content`, doctor.accessToken)).statusCode).toBe(
    404,
  );
  const after = await get(t, `/patients/${patientId}/documents`, doctor.accessToken);
  expect(after.json<{ items: DocumentBody[] }>().items.map((d) => d.id)).toEqual([
    pngDoc.id,
    textDoc.id,
  ]);
  return { doctor, patientId, textDoc, pngDoc };
}

/** Flips one bit in the middle of a stored object. */
function tamper(key: string): void {
  const path = filesUnder(storageDir).find((p) => p.endsWith(`/${key}`)) ?? '';
  const bytes = readFileSync(path);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  writeFileSync(path, bytes);
}

describe('local storage encrypted at rest (DOCUMENTS_ENCRYPTION_KEY)', () => {
  it('serves the full API, and keeps no plaintext on disk', async () => {
    const { textDoc } = await fullRoundTrip(local, true);
    const path = filesUnder(storageDir).find((p) => p.endsWith(textDoc.id));
    expect(path).toBeDefined();
    const stored = readFileSync(path ?? '');
    expect(stored.subarray(0, 4).toString('latin1')).toBe('MCDE');
    expect(stored.includes(Buffer.from('Pellucidite'))).toBe(false);
    for (const file of filesUnder(storageDir)) {
      expect(readFileSync(file).includes(Buffer.from('Pellucidite'))).toBe(false);
    }
  });

  it('never serves a tampered file or thumbnail: document_corrupt, audited', async () => {
    const admin = await createUser(local.app, 'admin');
    const { doctor, patientId, textDoc, pngDoc } = await fullRoundTrip(local, true);
    // A byte of ciphertext in the middle: only the authentication tag at the end can tell.
    tamper(textDoc.id);
    const res = await get(local, `/documents/${textDoc.id}/content`, doctor.accessToken);
    expect(res.statusCode).toBe(500);
    expect(problemOf(res).code).toBe('document_corrupt');
    expect(res.body).not.toContain('Pellucidite');

    // The thumbnail is read whole before it is sent: no 200 followed by a broken-off body.
    tamper(`${pngDoc.id}.thumb`);
    const thumb = await get(local, `/documents/${pngDoc.id}/thumbnail`, doctor.accessToken);
    expect(thumb.statusCode).toBe(500);
    expect(problemOf(thumb).code).toBe('document_corrupt');
    const corrupt = (await auditActions(local, admin, patientId)).filter(
      (action) => action === 'document.corrupt',
    );
    expect(corrupt).toHaveLength(2);
  });

  it('after a restart with a different key, every document is document_corrupt', async () => {
    const { patientId, textDoc, pngDoc } = await fullRoundTrip(local, true);
    // Last in this block: it replaces the app on the same database and storage directory.
    const other = await apps.open({
      STORAGE_DIR: storageDir,
      DOCUMENTS_ENCRYPTION_KEY: secondKey,
    });
    const [doctor, admin] = await Promise.all([
      createUser(other.app, 'doctor'),
      createUser(other.app, 'admin'),
    ]);
    const meta = await get(other, `/documents/${textDoc.id}`, doctor.accessToken);
    expect(meta.json<DocumentBody>().encrypted).toBe(true);
    const res = await get(other, `/documents/${textDoc.id}/content`, doctor.accessToken);
    expect(res.statusCode).toBe(500);
    expect(problemOf(res).code).toBe('document_corrupt');
    expect(res.body).not.toContain('Pellucidite');
    const png = await get(other, `/documents/${pngDoc.id}/content`, doctor.accessToken);
    expect(problemOf(png).code).toBe('document_corrupt');
    const thumb = await get(other, `/documents/${pngDoc.id}/thumbnail`, doctor.accessToken);
    expect(problemOf(thumb).code).toBe('document_corrupt');
    expect(await auditActions(other, admin, patientId)).toContain('document.corrupt');
  });
});

describe('S3 storage (s3rver)', () => {
  it('serves the full API', async ({ skip }) => {
    if (s3.value === undefined) skip(s3.skip);
    else await fullRoundTrip(await apps.open(await s3Env(s3.value)), false);
  });
});

describe('Azure Blob storage (Azurite)', () => {
  it('serves the full API', async ({ skip }) => {
    if (azure.value === undefined) skip(azure.skip);
    else await fullRoundTrip(await apps.open(await azureEnv(azure.value)), false);
  });
});
