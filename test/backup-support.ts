import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import sharp from 'sharp';
import { openSession } from '../src/backup/session.js';
import { listTables } from '../src/backup/catalog.js';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import {
  jobDatabaseOptions,
  openDatabase,
  rowsOf,
  type Database,
  type Db,
} from '../src/db/client.js';
import { appointments } from '../src/db/schema/appointments.js';
import { appointmentReminders } from '../src/db/schema/reminders.js';
import { mfaBackupCodes, mfaChallenges } from '../src/db/schema/security.js';
import { newId } from '../src/lib/ids.js';
import { createLocalStorage } from '../src/infra/storage/local.js';
import type { DocumentStorage } from '../src/infra/storage/storage.js';
import { seedDemoPractice } from '../src/seed/demo.js';
import { pdfWith, upload } from './documents-support.js';
import {
  api,
  createUser,
  strongPassword,
  testSecret,
  type ApiResponse,
  type TestUser,
} from './helpers.js';

/**
 * Backup and restore tests: practices on either engine, seeded so that every table has rows, and
 * a row-by-row picture of a whole database to compare.
 */
export const pgBase = process.env.TEST_DATABASE_URL;

export type Engine = 'pglite' | 'postgres';

/** A place for one practice: a PGlite directory or a fresh PostgreSQL database, and its files. */
export interface Place {
  engine: Engine;
  config: Config;
  storageDir: string;
  dispose(): Promise<void>;
}

const tempDirs: string[] = [];

export async function tempDir(prefix = 'medcore-backup-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/**
 * `inMemory`: a PGlite practice that is never reopened (a backup's source) skips the disk; its
 * documents still go to a directory.
 */
export async function newPlace(engine: Engine, inMemory = false): Promise<Place> {
  const dir = await tempDir();
  const dataDir = inMemory && engine === 'pglite' ? 'memory://' : dir;
  const storageDir = join(dir, 'documents');
  let url: string | undefined;
  let drop = async (): Promise<void> => undefined;
  if (engine === 'postgres') {
    if (pgBase === undefined) throw new Error('TEST_DATABASE_URL is not set');
    const name = `medcore_bk_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgBase });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const parsed = new URL(pgBase);
    parsed.pathname = `/${name}`;
    url = parsed.toString();
    drop = async () => {
      const client = new pg.Client({ connectionString: pgBase });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    };
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    STORAGE_DIR: storageDir,
    JWT_SECRET: testSecret,
    RATE_LIMIT_ENABLED: 'false',
    // The tests seal the audit trail themselves (sealPending), so no timer changes rows between
    // a snapshot and a backup.
    AUDIT_SEAL_INTERVAL_MS: '60000',
    // Nor does the reminder job: the demo practice has appointments today, so its audit rows
    // would land between the snapshot and the backup (seen once in CI).
    REMINDER_LEAD_MINUTES: '0',
    ...(url === undefined ? {} : { DATABASE_URL: url }),
  });
  return { engine, config, storageDir, dispose: drop };
}

export async function openPlace(place: Place): Promise<Database> {
  return openDatabase(jobDatabaseOptions(place.config));
}

export async function placeStorage(place: Place): Promise<DocumentStorage> {
  return createLocalStorage({ dir: place.storageDir });
}

export async function appOn(place: Place): Promise<FastifyInstance> {
  return buildApp(place.config, { logger: false });
}

export interface Seeded {
  admin: TestUser;
  doctor: TestUser;
  documentId: string;
  documentSha: string;
}

/** Fails the seeding at once, with the answer, when a request does not succeed. */
async function succeeded(request: Promise<ApiResponse>): Promise<ApiResponse> {
  const res = await request;
  const { method = '', url = '' } = res.raw.req;
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res;
}

/**
 * Rows in every table, through the API where there is one (so audit rows, versions and hashes
 * are what the application writes) and directly for MFA state, which needs a TOTP dance. Values
 * are chosen to be awkward: quotes, backslashes, newlines, non-ASCII, JSON, arrays, microseconds.
 */
export async function seedEveryTable(app: FastifyInstance): Promise<Seeded> {
  const admin = await createUser(app, 'admin');
  const doctor = await createUser(app, 'doctor');
  await seedDemoPractice(
    app.ctx,
    { userId: admin.id, role: 'admin', sessionId: admin.id },
    { patients: 12, rules: app.ctx.config },
  );
  const patient = await succeeded(
    api(app)
      .as(doctor)
      .post(
        '/patients',
        {
          first_name: `Zoë "Q" O'Brien \\ ✓`,
          last_name: 'Ñúñez-Łódź 山田',
          email: `odd.${randomBytes(3).toString('hex')}@example.test`,
          allergies: ['penicillin', 'nuts "mixed"'],
          emergency_contacts: [
            { name: 'A, B', relationship: 'sibling', phone: '+44 20 7946 0000' },
          ],
          notes: 'line one\nline two tabbed {braces} [brackets] \u00e9',
        },
        // Keeps the first answer in idempotency_keys, so that table has a row to carry too.
        { headers: { 'idempotency-key': `backup-${randomBytes(4).toString('hex')}` } },
      ),
  );
  const patientId = patient.json<{ id: string }>().id;
  await succeeded(
    api(app).as(doctor).post(`/patients/${patientId}/notes`, {
      content: 'Follow-up: "stable"; \\ backslash',
      visit_type: 'follow_up',
    }),
  );
  await succeeded(api(app).as(doctor).put(`/patients/${patientId}/favorite`));
  await succeeded(api(app).as(doctor).post('/prompts', { content: 'Summarise: ☃ and ’quotes’' }));
  await succeeded(api(app).as(doctor).post('/status', { client_name: 'backup-test' }));
  await succeeded(api(app).post('/auth/password/forgot', { email: doctor.email }));

  const pdf = await pdfWith(['Backup ferritin marker', 'page two']);
  const kept = await upload(app, doctor.accessToken, patientId, {
    filename: 'labs.pdf',
    content: pdf,
    contentType: 'application/pdf',
  });
  const document = kept.json<{ id: string; sha256: string }>();
  const jpeg = await sharp({
    create: { width: 320, height: 200, channels: 3, background: { r: 10, g: 120, b: 200 } },
  })
    .jpeg()
    .toBuffer();
  await upload(
    app,
    doctor.accessToken,
    patientId,
    { filename: 'scan.jpg', content: jpeg, contentType: 'image/jpeg' },
    { category: 'imaging' },
  );
  const gone = await upload(app, doctor.accessToken, patientId, {
    filename: 'old.txt',
    content: Buffer.from('superseded words\n'),
  });
  await succeeded(api(app).as(doctor).delete(`/documents/${gone.json<{ id: string }>().id}`));

  const now = new Date();
  await app.ctx.db.insert(mfaBackupCodes).values({ id: newId(), userId: admin.id, codeHash: 'h1' });
  await app.ctx.db.insert(mfaChallenges).values({
    id: newId(),
    userId: admin.id,
    tokenHash: `t${randomBytes(8).toString('hex')}`,
    expiresAt: new Date(now.getTime() + 300_000),
  });
  // A reminder sent for a demo appointment (the reminder job is off in tests).
  const [booked] = await app.ctx.db.select().from(appointments).limit(1);
  if (booked === undefined) throw new Error('the demo practice has no appointment');
  await app.ctx.db.insert(appointmentReminders).values({
    appointmentId: booked.id,
    leadMinutes: 120,
    startsAt: booked.startsAt,
    status: 'sent',
    attempts: 2,
    nextAttemptAt: now,
    lastError: null,
    sentAt: now,
  });
  return { admin, doctor, documentId: document.id, documentSha: document.sha256 };
}

/** Every table's rows (all columns, generated ones too, as text), ordered by primary key. */
export async function snapshot(db: Db): Promise<Map<string, string[][]>> {
  const session = await openSession(db);
  try {
    await session.query('begin isolation level repeatable read');
    await session.query(`set local timezone = 'UTC'`);
    const tables = await listTables(session);
    const result = new Map<string, string[][]>();
    for (const table of tables) {
      const order = table.primaryKey.map((c) => `"${c}"`).join(', ') || '1';
      const rows = await session.query(
        `select to_jsonb(t)::text from "${table.name}" t order by ${order}`,
      );
      result.set(
        table.name,
        rows.map((row) => [String(row[0])]),
      );
    }
    await session.query('commit');
    return result;
  } finally {
    await session.release();
  }
}

export { strongPassword };

/**
 * Waits until the app's outbox dispatcher has handed on every event: it changes their rows
 * (claims, dispatched_at) in the background, which a backup compared row by row must not see.
 */
export async function settleOutbox(app: FastifyInstance, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await app.ctx.db.execute(
      sql`select count(*)::int as n from outbox_events where dispatched_at is null or claim_token is not null`,
    );
    const [row] = rowsOf<{ n: number }>(result);
    if (row?.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${row?.n} outbox events still not dispatched`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
