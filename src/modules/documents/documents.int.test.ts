import { readFileSync, writeFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  problemOf,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import {
  filesUnder,
  multipart,
  newPatient,
  pdfWith,
  sha256,
  tempStorageDir,
  upload,
} from '../../../test/documents-support.js';
import { documents } from '../../db/schema/documents.js';

const storageDir = tempStorageDir();
let t: TestApp;
let doctor: TestUser;
let nurse: TestUser;
let receptionist: TestUser;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp({ STORAGE_DIR: storageDir });
  [doctor, nurse, receptionist, admin] = await Promise.all([
    createUser(t.app, 'doctor'),
    createUser(t.app, 'nurse'),
    createUser(t.app, 'receptionist'),
    createUser(t.app, 'admin'),
  ]);
});
afterAll(async () => {
  await t.close();
});

interface DocumentBody {
  id: string;
  patient_id: string;
  content_type: string;
  sha256: string;
  size_bytes: number;
  original_name: string | null;
  page_count: number | null;
  has_thumbnail: boolean;
  encrypted: boolean;
  scan_status: string;
  category: string;
}

const get = (url: string, token: string) =>
  t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(token) });

async function auditActions(patientId: string): Promise<string[]> {
  const res = await get(`/admin/audit?patient_id=${patientId}&limit=100`, admin.accessToken);
  return res.json<{ items: { action: string }[] }>().items.map((row) => row.action);
}

describe('uploading and downloading a PDF', () => {
  it('stores it, serves the same bytes as an attachment, and finds it by its words', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const pdf = await pdfWith(['Haemoglobin normal', 'Ferritin zanzibarite marker', 'Signed']);
    const res = await upload(t.app, doctor.accessToken, patientId, {
      filename: 'labs march.pdf',
      content: pdf,
      contentType: 'application/pdf',
    });
    expect(res.statusCode, res.body).toBe(201);
    const doc = res.json<DocumentBody>();
    expect(res.headers.location).toBe(`/api/v1/documents/${doc.id}`);
    expect(doc).toMatchObject({
      patient_id: patientId,
      content_type: 'application/pdf',
      sha256: sha256(pdf),
      size_bytes: pdf.length,
      original_name: 'labs march.pdf',
      page_count: 3,
      has_thumbnail: false,
      scan_status: 'not_scanned',
      encrypted: false,
    });

    const content = await get(`/documents/${doc.id}/content`, nurse.accessToken);
    expect(content.statusCode).toBe(200);
    expect(sha256(content.rawPayload)).toBe(sha256(pdf));
    expect(content.headers['content-type']).toBe('application/pdf');
    expect(content.headers['x-content-type-options']).toBe('nosniff');
    expect(content.headers['content-disposition']).toMatch(
      /^attachment; filename="labs march\.pdf"/,
    );

    const found = await get(`/patients/${patientId}/documents?q=zanzibarite`, doctor.accessToken);
    expect(found.json<{ items: DocumentBody[] }>().items.map((d) => d.id)).toEqual([doc.id]);
    const missed = await get(`/patients/${patientId}/documents?q=quokka`, doctor.accessToken);
    expect(missed.json<{ items: DocumentBody[] }>().items).toEqual([]);

    expect(await auditActions(patientId)).toEqual(
      expect.arrayContaining(['document.create', 'document.download', 'document.list']),
    );
  });

  it('keeps the storage key server-generated whatever the file name says', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    for (const [name, kept] of [
      ['../../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\evil.txt', 'evil.txt'],
      ['/abs/path/\u202Etxt.exe', 'txt.exe'],
      ['..', null],
    ] as const) {
      const res = await upload(t.app, doctor.accessToken, patientId, {
        filename: name,
        content: Buffer.from('plain words only\n'),
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json<DocumentBody>().original_name).toBe(kept);
    }
    for (const path of filesUnder(storageDir)) {
      expect(path.split('/').pop()).toMatch(/^[0-9a-f-]{36}(\.[a-z]+)?$/);
    }
  });
});

describe('refusals', () => {
  it('a non-allowed type behind a .pdf name and type is a 415, and nothing is stored', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const before = filesUnder(storageDir).length;
    for (const content of [
      Buffer.concat([Buffer.from('MZ\x90\x00'), Buffer.alloc(4000, 1)]),
      Buffer.from('PK\x03\x04zip archive'),
      Buffer.concat([Buffer.from('GIF89a'), Buffer.from([1, 0, 1, 0, 0x80, 0, 0])]),
      Buffer.from('<html>\x00</html>'),
    ]) {
      const res = await upload(t.app, doctor.accessToken, patientId, {
        filename: 'report.pdf',
        content,
        contentType: 'application/pdf',
      });
      expect(res.statusCode).toBe(415);
      expect(problemOf(res).code).toBe('unsupported_media_type');
    }
    expect(filesUnder(storageDir).length).toBe(before);
    const list = await get(`/patients/${patientId}/documents`, doctor.accessToken);
    expect(list.json<{ items: unknown[] }>().items).toEqual([]);
  });

  it('a text head followed by binary is refused', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const content = Buffer.concat([Buffer.alloc(20_000, 'a'), Buffer.from([0, 1, 2, 0xff])]);
    const res = await upload(t.app, doctor.accessToken, patientId, { filename: 'x.txt', content });
    expect(res.statusCode).toBe(415);
  });

  it('checks the form: file required, category from the list, JSON refused, unknown patient', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const url = `/api/v1/patients/${patientId}/documents`;
    const noFile = multipart({ category: 'lab_result' });
    let res = await t.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(doctor.accessToken), ...noFile.headers },
      payload: noFile.payload,
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.field).toBe('body.file');

    res = await upload(
      t.app,
      doctor.accessToken,
      patientId,
      { filename: 'a.txt', content: Buffer.from('hello') },
      { category: 'holiday_photos' },
    );
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.field)).toContain('body.category');

    res = await t.app.inject({
      method: 'POST',
      url,
      headers: bearer(doctor.accessToken),
      payload: { category: 'lab_result' },
    });
    expect(res.statusCode).toBe(415);
    expect(problemOf(res).code).toBe('unsupported_media_type');

    res = await upload(t.app, doctor.accessToken, '01a20000-0000-7000-8000-000000000000', {
      filename: 'a.txt',
      content: Buffer.from('hello'),
    });
    expect(res.statusCode).toBe(404);

    const broken = multipart({ category: 'lab_result' }, [
      { filename: 'a.txt', content: Buffer.from('hi') },
    ]);
    res = await t.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(doctor.accessToken), ...broken.headers },
      payload: broken.payload.subarray(0, broken.payload.length - 30),
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
  });
});

describe('images', () => {
  it('strips EXIF and GPS from a JPEG and serves a thumbnail', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const jpeg = await sharp({
      create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 30, b: 30 } },
    })
      .jpeg()
      .withExif({
        IFD0: { Make: 'CanonTest', Model: 'GPSCam' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' },
      })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    expect(jpeg.includes(Buffer.from('GPSCam'))).toBe(true);

    const res = await upload(
      t.app,
      doctor.accessToken,
      patientId,
      { filename: 'wound.jpg', content: jpeg, contentType: 'image/jpeg' },
      { category: 'imaging' },
    );
    expect(res.statusCode, res.body).toBe(201);
    const doc = res.json<DocumentBody>();
    expect(doc.content_type).toBe('image/jpeg');
    expect(doc.has_thumbnail).toBe(true);

    const content = await get(`/documents/${doc.id}/content`, doctor.accessToken);
    expect(sha256(content.rawPayload)).toBe(doc.sha256);
    const meta = await sharp(content.rawPayload).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.width).toBe(800);
    expect(content.rawPayload.includes(Buffer.from('GPSCam'))).toBe(false);

    const thumb = await get(`/documents/${doc.id}/thumbnail`, doctor.accessToken);
    expect(thumb.statusCode).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    const thumbMeta = await sharp(thumb.rawPayload).metadata();
    expect(Math.max(thumbMeta.width, thumbMeta.height)).toBeLessThanOrEqual(256);
    expect(thumbMeta.exif).toBeUndefined();
  });

  it('a PDF has no thumbnail (404)', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const res = await upload(t.app, doctor.accessToken, patientId, {
      filename: 'a.pdf',
      content: await pdfWith(['one']),
    });
    const thumb = await get(
      `/documents/${res.json<DocumentBody>().id}/thumbnail`,
      doctor.accessToken,
    );
    expect(thumb.statusCode).toBe(404);
  });
});

describe('who may do what', () => {
  it('receptionists read non-clinical documents only and upload nothing; users see nothing', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const clinical = await upload(t.app, nurse.accessToken, patientId, {
      filename: 'labs.txt',
      content: Buffer.from('potassium 4.1'),
    });
    const insurance = await upload(
      t.app,
      nurse.accessToken,
      patientId,
      { filename: 'card.txt', content: Buffer.from('policy 123') },
      { category: 'insurance' },
    );
    expect([clinical.statusCode, insurance.statusCode]).toEqual([201, 201]);
    const clinicalId = clinical.json<DocumentBody>().id;
    const insuranceId = insurance.json<DocumentBody>().id;

    const list = await get(`/patients/${patientId}/documents`, receptionist.accessToken);
    expect(list.json<{ items: DocumentBody[] }>().items.map((d) => d.id)).toEqual([insuranceId]);
    expect(
      (await get(`/documents/${insuranceId}/content`, receptionist.accessToken)).statusCode,
    ).toBe(200);
    expect((await get(`/documents/${clinicalId}`, receptionist.accessToken)).statusCode).toBe(403);
    expect(
      (await get(`/documents/${clinicalId}/content`, receptionist.accessToken)).statusCode,
    ).toBe(403);
    const byReceptionist = await upload(
      t.app,
      receptionist.accessToken,
      patientId,
      { filename: 'x.txt', content: Buffer.from('x') },
      { category: 'insurance' },
    );
    expect(byReceptionist.statusCode).toBe(403);

    const user = await createUser(t.app, 'user');
    expect((await get(`/patients/${patientId}/documents`, user.accessToken)).statusCode).toBe(403);
    expect((await get(`/documents/${insuranceId}`, user.accessToken)).statusCode).toBe(403);
  });
});

describe('deleting', () => {
  it('is soft: gone for every reader, the row kept, If-Match honoured', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const created = await upload(t.app, doctor.accessToken, patientId, {
      filename: 'a.txt',
      content: Buffer.from('to be deleted'),
    });
    const id = created.json<DocumentBody>().id;
    const stale = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/documents/${id}`,
      headers: { ...bearer(doctor.accessToken), 'if-match': '"999"' },
    });
    expect(stale.statusCode).toBe(412);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/documents/${id}`,
      headers: bearer(doctor.accessToken),
    });
    expect(del.statusCode).toBe(204);
    expect((await get(`/documents/${id}`, admin.accessToken)).statusCode).toBe(404);
    expect((await get(`/documents/${id}/content`, admin.accessToken)).statusCode).toBe(404);
    const list = await get(`/patients/${patientId}/documents`, doctor.accessToken);
    expect(list.json<{ items: unknown[] }>().items).toEqual([]);
    const [row] = await t.app.ctx.db.select().from(documents).where(eq(documents.id, id));
    expect(row?.deletedBy).toBe(doctor.id);
    expect(row?.deletedAt).toBeInstanceOf(Date);
    expect(await auditActions(patientId)).toContain('document.delete');
  });
});

describe('integrity', () => {
  it('a corrupted file is never served: document_corrupt and an audit row', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const created = await upload(t.app, doctor.accessToken, patientId, {
      filename: 'a.txt',
      content: Buffer.from('original clinical text'),
    });
    const id = created.json<DocumentBody>().id;
    const path = filesUnder(storageDir).find((p) => p.endsWith(id));
    expect(path).toBeDefined();
    const bytes = readFileSync(path ?? '');
    bytes[3] = (bytes[3] ?? 0) ^ 0xff;
    writeFileSync(path ?? '', bytes);
    const res = await get(`/documents/${id}/content`, doctor.accessToken);
    expect(res.statusCode).toBe(500);
    expect(problemOf(res).code).toBe('document_corrupt');
    expect(res.body).not.toContain('clinical');
    expect(await auditActions(patientId)).toContain('document.corrupt');
  });
});

describe('large content', () => {
  it('a text file of a million characters of distinct words is stored and searchable', async () => {
    // Its full text would exceed PostgreSQL's 1 MB tsvector limit: the search text is capped.
    const patientId = await newPatient(t.app, doctor.accessToken);
    const words = Array.from({ length: 120_000 }, (_, i) => `w${i.toString(36)}q`);
    const content = Buffer.from(`needleword ${words.join(' ')}\n`);
    expect(content.length).toBeGreaterThan(700_000);
    const res = await upload(t.app, doctor.accessToken, patientId, {
      filename: 'big.txt',
      content,
    });
    expect(res.statusCode, res.body).toBe(201);
    const found = await get(`/patients/${patientId}/documents?q=needleword`, doctor.accessToken);
    expect(found.json<{ items: unknown[] }>().items).toHaveLength(1);
  });

  it('a failed audit write opens no second read of a large document', async () => {
    const patientId = await newPatient(t.app, doctor.accessToken);
    const content = Buffer.alloc(1_500_000, 'abc def\n');
    const created = await upload(t.app, doctor.accessToken, patientId, {
      filename: 'large.txt',
      content,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<DocumentBody>().id;
    const reads = vi.spyOn(t.app.ctx.storage, 'get');
    await t.app.ctx.db.execute(sql`alter table audit_log rename to audit_log_away`);
    let res;
    let opened: number;
    try {
      res = await get(`/documents/${id}/content`, doctor.accessToken);
    } finally {
      await t.app.ctx.db.execute(sql`alter table audit_log_away rename to audit_log`);
      opened = reads.mock.calls.length;
      reads.mockRestore();
    }
    expect(res.statusCode, res.body).toBe(503);
    expect(problemOf(res).code).toBe('audit_unavailable');
    // Only the verifying read ran (and was consumed to its end).
    expect(opened).toBe(1);
    const ok = await get(`/documents/${id}/content`, doctor.accessToken);
    expect(sha256(ok.rawPayload)).toBe(sha256(content));
  });
});
