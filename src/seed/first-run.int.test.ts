import { readFile, stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../db/client.js';
import { isoWeekday } from '../modules/appointments/availability.js';
import { api, buildTestApp, createUser, login, type TestApp } from '../../test/helpers.js';
import { recordDemoAccounts } from './accounts-file.js';
import { seedOnFirstRun } from './first-run.js';
import { seedStaff } from './staff.js';

const apps: TestApp[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(apps.map((t) => t.close()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function appWith(env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'medcore-first-run-'));
  dirs.push(dir);
  // DATA_DIR is where the accounts file goes; the database stays the test one.
  const t = await buildTestApp({ STORAGE_DIR: join(dir, 'documents'), ...env });
  apps.push(t);
  const ctx = { ...t.app.ctx, config: { ...t.app.ctx.config, dataDir: dir } };
  return { t, dir, ctx };
}

interface Appointment {
  starts_at: string;
  ends_at: string;
  status: string;
}

const clinic = (iso: string, timeZone: string) => {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    date: `${get('year')}-${get('month')}-${get('day')}`,
    time: `${get('hour')}:${get('minute')}`,
  };
};

describe('the first start in development', () => {
  it('creates the demo practice, writes demo-accounts.txt (0600) and books this week inside working hours', async () => {
    const timeZone = 'America/New_York';
    const { t, dir, ctx } = await appWith({
      NODE_ENV: 'development',
      CLINIC_TIMEZONE: timeZone,
      WORKDAY_START: '08:00',
      WORKDAY_END: '16:00',
    });
    const file = await seedOnFirstRun(ctx, t.app.log);
    expect(file).toBe(join(dir, 'demo-accounts.txt'));
    expect((await stat(join(dir, 'demo-accounts.txt'))).mode & 0o777).toBe(0o600);
    const lines = (await readFile(join(dir, 'demo-accounts.txt'), 'utf8')).trim().split('\n');
    const roles = new Set(lines.map((line) => line.split(' ')[0]));
    for (const role of ['admin', 'doctor', 'nurse', 'receptionist']) expect(roles).toContain(role);
    const [, email, password] = lines.find((line) => line.startsWith('admin '))?.split(' ') ?? [];
    const tokens = await login(t.app, email ?? '', password ?? '');

    const items: Appointment[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(t.app)
        .as(tokens.access_token)
        .get(`/appointments?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{ items: Appointment[]; next_cursor: string | null }>();
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null);

    const today = clinic(new Date().toISOString(), timeZone).date;
    const upcoming = new Set<string>();
    for (const a of items) {
      const from = clinic(a.starts_at, timeZone);
      const to = clinic(a.ends_at, timeZone);
      expect(isoWeekday(from.date), a.starts_at).toBeLessThanOrEqual(5);
      expect(to.date).toBe(from.date);
      expect(from.time >= '08:00' && to.time <= '16:00', `${a.starts_at}-${a.ends_at}`).toBe(true);
      if (from.date >= today) upcoming.add(from.date);
    }
    expect(upcoming.size).toBeGreaterThanOrEqual(2);
    if (isoWeekday(today) <= 5) expect(upcoming).toContain(today);
    const statuses = new Set(items.map((a) => a.status));
    for (const status of ['confirmed', 'checked_in', 'completed'])
      expect(statuses).toContain(status);

    // Only once: the database is no longer empty.
    expect(await seedOnFirstRun(ctx, t.app.log)).toBeUndefined();
  }, 240_000);

  it('does nothing with SEED_DEMO=false, in production or in test', async () => {
    const envs: Record<string, string>[] = [
      { NODE_ENV: 'development', SEED_DEMO: 'false' },
      { NODE_ENV: 'test' },
      { NODE_ENV: 'production', MFA_ENCRYPTION_KEY: 'k'.repeat(32) },
    ];
    for (const env of envs) {
      const { t, dir, ctx } = await appWith(env);
      expect(await seedOnFirstRun(ctx, t.app.log)).toBeUndefined();
      await expect(stat(join(dir, 'demo-accounts.txt'))).rejects.toThrow();
      const [row] = rowsOf<{ n: number }>(
        await t.app.database.db.execute(sql`select count(*)::int as n from users`),
      );
      expect(row?.n).toBe(0);
    }
  }, 180_000);

  it('finishes a first run that was stopped after the staff accounts, losing no password', async () => {
    const { t, dir, ctx } = await appWith({ NODE_ENV: 'development' });
    const file = join(dir, 'demo-accounts.txt');
    // The server stopped right after the staff accounts: their passwords are already on file.
    const staff = await seedStaff(ctx, (account) => recordDemoAccounts(dir, [account]));
    const before = (await readFile(file, 'utf8')).trim().split('\n');
    expect(before).toHaveLength(staff.length);

    // The next start completes the practice and appends only the accounts it makes.
    expect(await seedOnFirstRun(ctx, t.app.log)).toBe(file);
    const after = (await readFile(file, 'utf8')).trim().split('\n');
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).every((line) => line.startsWith('doctor '))).toBe(true);
    expect(new Set(after.map((line) => line.split(' ')[1])).size).toBe(after.length);
    const [, email, password] = before.find((line) => line.startsWith('admin '))?.split(' ') ?? [];
    const admin = await login(t.app, email ?? '', password ?? '');
    const patients = await api(t.app).as(admin.access_token).get('/patients?limit=1');
    expect(patients.json<{ items: unknown[] }>().items).toHaveLength(1);
    expect(await seedOnFirstRun(ctx, t.app.log)).toBeUndefined();
  }, 240_000);

  it('leaves a database with an account of its own alone', async () => {
    const { t, dir, ctx } = await appWith({ NODE_ENV: 'development' });
    await createUser(t.app, 'admin');
    expect(await seedOnFirstRun(ctx, t.app.log)).toBeUndefined();
    await expect(stat(join(dir, 'demo-accounts.txt'))).rejects.toThrow();
  });
});
