import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { eq } from 'drizzle-orm';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  filesUnder,
  multipart,
  newPatient,
  sha256,
  tempStorageDir,
  upload,
} from '../../../test/documents-support.js';
import {
  bearer,
  buildTestApp,
  createUser,
  problemOf,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { documents } from '../../db/schema/documents.js';

/*
 * Size limits, quotas and hostile content, on one app (building one is the slow part): files up
 * to 400,000 bytes, a quota of 1,000,000 bytes per uploader, a 64 KB JSON body limit. The app
 * also listens on a real port for the parallel-upload test.
 */

const maxBytes = 400_000;
const quotaBytes = 1_000_000;
const storageDir = tempStorageDir();
let t: TestApp;
let doctor: TestUser;

beforeAll(async () => {
  t = await buildTestApp({
    STORAGE_DIR: storageDir,
    DOCUMENT_MAX_BYTES: String(maxBytes),
    DOCUMENT_QUOTA_BYTES: String(quotaBytes),
    BODY_LIMIT_BYTES: '65536',
  });
  doctor = await createUser(t.app, 'doctor');
});

afterAll(async () => {
  await t.close();
  rmSync(storageDir, { recursive: true, force: true });
});

interface DocumentBody {
  id: string;
  sha256: string;
  size_bytes: number;
  content_type: string;
}

/** Printable text of exactly `size` bytes (text/plain by content). */
function textOf(size: number): Buffer {
  const line = Buffer.from(`${randomBytes(36).toString('base64')}\n`);
  return Buffer.alloc(size, line);
}

async function rowsOf(patientId: string) {
  return t.app.ctx.db.select().from(documents).where(eq(documents.patientId, patientId));
}

async function liveBytes(userId: string): Promise<number> {
  const rows = await t.app.ctx.db.select().from(documents).where(eq(documents.uploadedBy, userId));
  return rows.filter((row) => row.deletedAt === null).reduce((sum, row) => sum + row.sizeBytes, 0);
}

describe('the file size limit (DOCUMENT_MAX_BYTES)', () => {
  it('refuses one byte over, or far over, with 413 and leaves nothing behind', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const before = filesUnder(storageDir);
    for (const size of [maxBytes + 1, 3 * maxBytes]) {
      const res = await upload(t.app, doctor.accessToken, patientId, {
        filename: 'big.txt',
        content: textOf(size),
      });
      expect(res.statusCode, res.body).toBe(413);
      expect(problemOf(res).code).toBe('payload_too_large');
    }
    // filesUnder walks .incoming too: no temporary file is left either.
    expect(filesUnder(storageDir)).toEqual(before);
    expect(await rowsOf(patientId)).toEqual([]);
  });

  it('accepts a file of exactly the limit', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const content = textOf(maxBytes);
    const res = await upload(t.app, doctor.accessToken, patientId, {
      filename: 'exact.txt',
      content,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<DocumentBody>()).toMatchObject({
      size_bytes: maxBytes,
      sha256: sha256(content),
    });
  });

  it('refuses a second file part and an over-long description, keeping nothing', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const before = filesUnder(storageDir);
    const two = multipart({ category: 'lab_result' }, [
      { filename: 'a.txt', content: Buffer.from('first') },
      { filename: 'b.txt', content: Buffer.from('second') },
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/patients/${patientId}/documents`,
      headers: { ...bearer(doctor.accessToken), ...two.headers },
      payload: two.payload,
    });
    expect(res.statusCode, res.body).toBe(400);
    const long = await upload(
      t.app,
      doctor.accessToken,
      patientId,
      { filename: 'a.txt', content: Buffer.from('words') },
      { category: 'lab_result', description: 'x'.repeat(5_000) },
    );
    expect(long.statusCode, long.body).toBe(400);
    expect(problemOf(long).errors?.map((e) => e.field)).toContain('body.description');
    expect(filesUnder(storageDir)).toEqual(before);
    expect(await rowsOf(patientId)).toEqual([]);
  });
});

describe('the storage quota (DOCUMENT_QUOTA_BYTES)', () => {
  it("counts only the uploader's live documents", async () => {
    const [owner, other] = await Promise.all([
      createUser(t.app, 'doctor'),
      createUser(t.app, 'nurse'),
    ]);
    const patientId = await newPatient(t.app, owner.accessToken);
    const send = (user: TestUser, size: number) =>
      upload(t.app, user.accessToken, patientId, { filename: 'q.txt', content: textOf(size) });

    const kept: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(owner, 300_000);
      expect(res.statusCode, res.body).toBe(201);
      kept.push(res.json<DocumentBody>().id);
    }
    const over = await send(owner, 300_000);
    expect(over.statusCode, over.body).toBe(413);
    expect(problemOf(over).code).toBe('storage_quota_exceeded');
    // Exactly filling the quota is allowed; after that even one byte is refused.
    expect((await send(owner, 100_000)).statusCode).toBe(201);
    const full = await send(owner, 1);
    expect(full.statusCode).toBe(413);
    expect(problemOf(full).code).toBe('storage_quota_exceeded');

    // Someone else's quota is their own.
    expect((await send(other, 300_000)).statusCode).toBe(201);

    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/documents/${kept[0] ?? ''}`,
      headers: bearer(owner.accessToken),
    });
    expect(del.statusCode).toBe(204);
    expect((await send(owner, 300_000)).statusCode).toBe(201);
    expect(await liveBytes(owner.id)).toBe(quotaBytes);
  });

  it('holds against parallel uploads racing for the last space', async () => {
    const racer = await createUser(t.app, 'doctor');
    const patientId = await newPatient(t.app, racer.accessToken);
    const before = filesUnder(storageDir).length;
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        upload(t.app, racer.accessToken, patientId, {
          filename: 'race.txt',
          content: textOf(300_000),
        }),
      ),
    );
    const codes = results.map((res) => res.statusCode).sort();
    // Each refused upload was refused only because three others already fit: exactly three win.
    expect(codes).toEqual([201, 201, 201, 413, 413, 413]);
    for (const res of results.filter((r) => r.statusCode === 413)) {
      expect(problemOf(res).code).toBe('storage_quota_exceeded');
    }
    expect(await liveBytes(racer.id)).toBeLessThanOrEqual(quotaBytes);
    // The refused uploads' content was removed again.
    expect(filesUnder(storageDir).length).toBe(before + 3);
  });
});

describe('hostile content', () => {
  it('refuses a JPEG whose magic bytes front garbage (422), keeping nothing', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const before = filesUnder(storageDir);
    const content = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]),
      randomBytes(30_000),
    ]);
    const res = await upload(t.app, doctor.accessToken, patientId, {
      filename: 'photo.jpg',
      content,
      contentType: 'image/jpeg',
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(filesUnder(storageDir)).toEqual(before);
    expect(await rowsOf(patientId)).toEqual([]);
  });

  it('refuses a pixel bomb (20000 x 20000 in 48 KB) from its header, quickly', async () => {
    const user = await createUser(t.app, 'doctor');
    const patientId = await newPatient(t.app, user.accessToken);
    const bomb = pixelBomb(20_000, 20_000);
    const meta = await sharp(bomb, { limitInputPixels: false }).metadata();
    expect([meta.width, meta.height, bomb.length < 100_000]).toEqual([20_000, 20_000, true]);
    const before = filesUnder(storageDir);
    const started = Date.now();
    const res = await upload(
      t.app,
      user.accessToken,
      patientId,
      { filename: 'scan.png', content: bomb, contentType: 'image/png' },
      { category: 'imaging' },
    );
    expect(res.statusCode, res.body).toBe(422);
    expect(problemOf(res).detail).toMatch(/20000 x 20000 pixels/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(filesUnder(storageDir)).toEqual(before);
  });
});

/**
 * A valid PNG of one colour: 1-bit greyscale, all zero rows, deflated. Built by hand because
 * sharp needs 5-20 s to encode 400 million pixels; decoding it would need 400 MB or more.
 */
function pixelBomb(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, no filter, no interlace
  const rows = Buffer.alloc((Math.ceil(width / 8) + 1) * height); // filter byte 0 + zero pixels
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('uploads and the JSON body limit', () => {
  it('a JSON body over BODY_LIMIT_BYTES is a 413, while a larger upload is accepted', async () => {
    const user = await createUser(t.app, 'doctor');
    const patientId = await newPatient(t.app, user.accessToken);
    const json = await t.app.inject({
      method: 'POST',
      url: '/api/v1/patients',
      headers: bearer(user.accessToken),
      payload: { first_name: 'A', last_name: 'B', notes: 'x'.repeat(70_000) },
    });
    expect(json.statusCode).toBe(413);
    expect(problemOf(json).code).toBe('payload_too_large');
    const content = textOf(300_000);
    const res = await upload(t.app, user.accessToken, patientId, {
      filename: 'long.txt',
      content,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<DocumentBody>().sha256).toBe(sha256(content));
  });
});

describe('parallel uploads over real HTTP', () => {
  it('stores twenty files of four types sent at once, each downloaded intact', async () => {
    // Four uploaders, five files each: together they would not fit in one quota.
    const users = await Promise.all(Array.from({ length: 4 }, () => createUser(t.app, 'doctor')));
    const patientId = await newPatient(t.app, doctor.accessToken);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}/api/v1`;
    const authOf = (i: number) => ({
      authorization: `Bearer ${users[Math.floor(i / 5)]?.accessToken ?? ''}`,
    });

    const files = await Promise.all(Array.from({ length: 20 }, (_, i) => sampleFile(i)));
    const created = await Promise.all(
      files.map(async (file, i) => {
        const form = new FormData();
        form.append('category', 'imaging');
        form.append('file', new Blob([file.content], { type: file.type }), file.name);
        const res = await fetch(`${base}/patients/${patientId}/documents`, {
          method: 'POST',
          headers: authOf(i),
          body: form,
        });
        expect(res.status, await res.clone().text()).toBe(201);
        return (await res.json()) as DocumentBody;
      }),
    );
    await Promise.all(
      created.map(async (doc, i) => {
        const file = files[i];
        expect(doc.content_type).toBe(file?.type);
        const res = await fetch(`${base}/documents/${doc.id}/content`, { headers: authOf(i) });
        expect(res.status).toBe(200);
        const body = Buffer.from(await res.arrayBuffer());
        expect(sha256(body)).toBe(doc.sha256);
        // Images are re-encoded without metadata; other types are stored byte for byte.
        if (file?.type === 'application/pdf' || file?.type === 'text/plain') {
          expect(doc.sha256).toBe(sha256(file.content));
        }
      }),
    );
  });
});

interface SampleFile {
  name: string;
  type: string;
  content: Buffer;
}

/** A few hundred KB of incompressible content of one of the four accepted types. */
async function sampleFile(i: number): Promise<SampleFile> {
  const noise = () =>
    sharp(randomBytes(240 * 240 * 3), { raw: { width: 240, height: 240, channels: 3 } });
  switch (i % 4) {
    case 0:
      return { name: `notes-${i}.txt`, type: 'text/plain', content: textOf(150_000 + i) };
    case 1:
      return { name: `scan-${i}.png`, type: 'image/png', content: await noise().png().toBuffer() };
    case 2:
      return {
        name: `photo-${i}.jpg`,
        type: 'image/jpeg',
        content: await noise().jpeg({ quality: 95 }).toBuffer(),
      };
    default:
      return {
        name: `report-${i}.pdf`,
        type: 'application/pdf',
        content: await pdfWithImage(await noise().jpeg({ quality: 95 }).toBuffer()),
      };
  }
}

async function pdfWithImage(jpeg: Buffer): Promise<Buffer> {
  const doc = new PDFDocument();
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => doc.on('end', resolve));
  doc.text('Radiology report');
  doc.image(jpeg, { width: 300 });
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
