import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appSeries } from '../../../test/app-series.js';
import { clamdSkipReason, eicar, startTestClamd, type TestClamd } from '../../../test/clamd.js';
import {
  filesUnder,
  newPatient,
  pdfWith,
  sha256,
  tempStorageDir,
  upload,
} from '../../../test/documents-support.js';
import {
  bearer,
  createUser,
  problemOf,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';

/*
 * Uploads through a real clamd (test/clamd.ts, signatures for the EICAR test string only), and
 * through apps whose CLAMAV_SOCKET names a socket nobody listens on: fail closed by default,
 * fail open with CLAMAV_FAIL_OPEN.
 */

if (clamdSkipReason !== undefined) {
  console.warn(`Skipping document virus-scan tests: ${clamdSkipReason}`);
}

// One app at a time on shared data (test/app-series.ts): each block opens its own.
const apps = appSeries();
const storageDir = tempStorageDir();
const nowhere = join(storageDir, 'no-clamd-here.sock');

interface Setup {
  app: TestApp;
  doctor: TestUser;
  admin: TestUser;
}

async function setUp(env: Record<string, string>): Promise<Setup> {
  const app = await apps.open({ STORAGE_DIR: storageDir, ...env });
  const [doctor, admin] = await Promise.all([
    createUser(app.app, 'doctor'),
    createUser(app.app, 'admin'),
  ]);
  return { app, doctor, admin };
}

afterAll(async () => {
  await apps.close();
  rmSync(storageDir, { recursive: true, force: true });
});

interface AuditRow {
  action: string;
  outcome: string;
  patient_id: string | null;
  actor_id: string | null;
  details: Record<string, unknown>;
}

async function virusAudit(s: Setup): Promise<AuditRow[]> {
  const res = await s.app.app.inject({
    method: 'GET',
    url: '/api/v1/admin/audit?action=document.virus_found&limit=100',
    headers: bearer(s.admin.accessToken),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: AuditRow[] }>().items;
}

describe.skipIf(clamdSkipReason !== undefined)('uploads scanned by clamd', () => {
  let clamd: TestClamd | undefined;
  let scanned: Setup;

  beforeAll(async () => {
    clamd = await startTestClamd();
    scanned = await setUp({ CLAMAV_SOCKET: clamd.socket });
  });

  afterAll(async () => {
    await clamd?.stop();
  });

  it('keeps a clean file and says it was scanned', async () => {
    const patientId = await newPatient(scanned.app.app, scanned.doctor.accessToken);
    const pdf = await pdfWith(['Clean discharge letter']);
    const res = await upload(scanned.app.app, scanned.doctor.accessToken, patientId, {
      filename: 'letter.pdf',
      content: pdf,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ scan_status: 'clean', sha256: sha256(pdf) });
  });

  it('refuses EICAR, alone or inside a larger text, keeps nothing, and audits it', async () => {
    const patientId = await newPatient(scanned.app.app, scanned.doctor.accessToken);
    const before = filesUnder(storageDir);
    const embedded = Buffer.concat([
      Buffer.from('Referral notes\n'.repeat(4_000)),
      eicar,
      Buffer.from('\nEnd of notes\n'.repeat(2_000)),
    ]);
    for (const [filename, content] of [
      ['eicar.txt', eicar],
      ['notes.txt', embedded],
    ] as const) {
      const res = await upload(scanned.app.app, scanned.doctor.accessToken, patientId, {
        filename,
        content,
        contentType: 'text/plain',
      });
      expect(res.statusCode, res.body).toBe(422);
      expect(problemOf(res).code).toBe('virus_found');
    }
    // Not even a temporary file in .incoming survives.
    expect(filesUnder(storageDir)).toEqual(before);
    const list = await scanned.app.app.inject({
      method: 'GET',
      url: `/api/v1/patients/${patientId}/documents`,
      headers: bearer(scanned.doctor.accessToken),
    });
    expect(list.json<{ items: unknown[] }>().items).toEqual([]);

    const rows = (await virusAudit(scanned)).filter((row) => row.patient_id === patientId);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ outcome: 'denied', actor_id: scanned.doctor.id });
      expect(String(row.details.signature)).toMatch(/^MedCore\.Test\.EICAR-(File|Body)/);
    }
  });

  // Last: it stops the daemon the scanned app uses.
  it('fails closed when the daemon it was using stops', async () => {
    await clamd?.stop();
    const patientId = await newPatient(scanned.app.app, scanned.doctor.accessToken);
    const before = filesUnder(storageDir);
    const started = Date.now();
    const res = await upload(scanned.app.app, scanned.doctor.accessToken, patientId, {
      filename: 'a.txt',
      content: Buffer.from('after the daemon stopped\n'),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.statusCode, res.body).toBe(503);
    expect(problemOf(res).code).toBe('scanner_unavailable');
    expect(filesUnder(storageDir)).toEqual(before);
  });
});

describe('with no daemon at CLAMAV_SOCKET', () => {
  let failClosed: Setup;
  beforeAll(async () => {
    failClosed = await setUp({ CLAMAV_SOCKET: nowhere });
  });

  it('fails closed, quickly, when no daemon answers', async () => {
    const patientId = await newPatient(failClosed.app.app, failClosed.doctor.accessToken);
    const before = filesUnder(storageDir);
    const started = Date.now();
    const res = await upload(failClosed.app.app, failClosed.doctor.accessToken, patientId, {
      filename: 'a.txt',
      content: Buffer.from('potassium 4.1\n'.repeat(1_000)),
    });
    // CLAMAV_TIMEOUT_MS is 15 s by default: a refused connection must not wait for it (the
    // margin is for a loaded CI machine; it takes milliseconds).
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.statusCode, res.body).toBe(503);
    expect(problemOf(res).code).toBe('scanner_unavailable');
    expect(res.headers['retry-after']).toBeDefined();
    expect(filesUnder(storageDir)).toEqual(before);
  });
});

describe('with no daemon and CLAMAV_FAIL_OPEN=true', () => {
  let failOpen: Setup;
  beforeAll(async () => {
    failOpen = await setUp({ CLAMAV_SOCKET: nowhere, CLAMAV_FAIL_OPEN: 'true' });
  });

  it('fails open with CLAMAV_FAIL_OPEN: kept, marked not_scanned', async () => {
    const patientId = await newPatient(failOpen.app.app, failOpen.doctor.accessToken);
    const content = Buffer.from('sodium 140\n'.repeat(1_000));
    const res = await upload(failOpen.app.app, failOpen.doctor.accessToken, patientId, {
      filename: 'a.txt',
      content,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ scan_status: 'not_scanned', sha256: sha256(content) });
  });
});
