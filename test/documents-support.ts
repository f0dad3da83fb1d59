import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import PDFDocument from 'pdfkit';
import { bearer, unique } from './helpers.js';

/** Test support for document uploads: multipart bodies, sample files, the storage directory. */

export interface FilePart {
  filename: string;
  content: Buffer;
  contentType?: string;
  field?: string;
}

/** A multipart/form-data body, built by hand so tests control every byte (names, order). */
export function multipart(fields: Record<string, string>, files: FilePart[] = []) {
  const boundary = `----medcore${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  for (const file of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; ` +
          `filename="${file.filename}"\r\nContent-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.content,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A PDF with the given words, one page each. */
export async function pdfWith(pages: string[]): Promise<Buffer> {
  const doc = new PDFDocument({ autoFirstPage: false });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => doc.on('end', resolve));
  for (const text of pages) {
    doc.addPage();
    doc.text(text);
  }
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

const made: string[] = [];
// Test files build apps with their own storage directories; none outlives the test process.
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempStorageDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'medcore-docs-test-'));
  made.push(dir);
  return dir;
}

/** Every file under a directory (the local driver may shard into subdirectories). */
export function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path));
    else found.push(path);
  }
  return found;
}

export async function newPatient(app: FastifyInstance, token: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/patients',
    headers: bearer(token),
    payload: { first_name: unique('Doc'), last_name: unique('Patient') },
  });
  if (res.statusCode !== 201) throw new Error(`patient: ${res.statusCode} ${res.body}`);
  return res.json<{ id: string }>().id;
}

export async function upload(
  app: FastifyInstance,
  token: string,
  patientId: string,
  file: FilePart,
  fields: Record<string, string> = { category: 'lab_result' },
) {
  const body = multipart(fields, [file]);
  return app.inject({
    method: 'POST',
    url: `/api/v1/patients/${patientId}/documents`,
    headers: { ...bearer(token), ...body.headers },
    payload: body.payload,
  });
}
