import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../db/client.js';
import {
  buildTestApp,
  createUsers,
  useTestApp,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { OPEN_ALL_DAY } from '../../../test/working-hours.js';
import { createOutboxDispatcher } from './outbox.dispatcher.js';
import { claimBatch, insertEvent, sequenceBatch } from './outbox.repository.js';
import type { StoredEvent } from './outbox.service.js';
import { bookOne, eventsOf, newPatient, waitFor } from './outbox.test-support.js';

let t: TestApp;
let doctor: TestUser;
let nurse: TestUser;

useTestApp(async (app) => {
  t = app;
  [doctor, nurse] = await createUsers(t.app, 'doctor', 'nurse');
}, OPEN_ALL_DAY);

async function undispatched(app: TestApp): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await app.app.ctx.db.execute(
      sql`select count(*)::int as n from outbox_events where dispatched_at is null`,
    ),
  );
  return row?.n ?? -1;
}

describe('claims', () => {
  it('two dispatchers on one database never both process an event', async () => {
    const seen = new Map<number, string[]>();
    const consumer = (who: string) => ({
      name: 'test-count',
      handle: async (event: StoredEvent) => {
        seen.set(event.id, [...(seen.get(event.id) ?? []), who]);
        // Slow enough that both dispatchers claim while the other works.
        await new Promise((resolve) => setTimeout(resolve, 2));
      },
    });
    t.app.ctx.outbox.register(consumer('app'));
    const second = createOutboxDispatcher({
      db: t.app.ctx.db,
      log: t.app.log,
      pollMs: 10,
      batch: 5,
      onSequenced: () => undefined,
    });
    second.register(consumer('second'));
    second.start();
    try {
      const patient = await newPatient(t.app, nurse);
      const booked = await Promise.all(
        Array.from({ length: 30 }, () => bookOne(t.app, doctor, doctor, patient).catch(() => null)),
      );
      expect(booked.filter((b) => b !== null).length).toBeGreaterThan(0);
      await waitFor(async () => (await undispatched(t)) === 0, 10_000);
    } finally {
      await second.stop();
    }
    const twice = [...seen.entries()].filter(([, by]) => by.length > 1);
    expect(twice).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
  });

  it(
    'an event claimed by an instance that dies (kill -9: no ack) is taken again after its lease',
    { timeout: 90_000 },
    async () => {
      const got: number[] = [];
      t.app.ctx.outbox.register({
        name: 'test-after-crash',
        handle: async (event: StoredEvent) => {
          got.push(event.id);
          await Promise.resolve();
        },
      });
      // Stand in for the crashed instance: number and claim an event with a short lease and never
      // come back. The event is written without the commit's wake-up (a plain transaction), so
      // the app's dispatcher meets it only at its next poll, after this claim; should a poll
      // come first anyway, there is nothing left to steal and the loop tries again.
      let claimed: StoredEvent | undefined;
      for (let i = 0; i < 20 && claimed === undefined; i++) {
        await t.app.ctx.db.transaction((tx) =>
          insertEvent(tx, {
            topic: 'appointment.updated',
            aggregateType: 'appointment',
            aggregateId: randomUUID(),
            payload: {},
          }),
        );
        await t.app.ctx.db.transaction((tx) => sequenceBatch(tx, 100));
        [claimed] = await claimBatch(t.app.ctx.db, randomUUID(), 100, 300);
      }
      expect(claimed).toBeDefined();
      const id = claimed?.id ?? -1;
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(got).not.toContain(id);
      await waitFor(() => got.includes(id), 10_000);
    },
  );
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)('on PostgreSQL', () => {
  it('two apps on one database split the events; none is processed twice', async () => {
    const other = await buildTestApp({ ...OPEN_ALL_DAY, DATABASE_URL: t.config.databaseUrl ?? '' });
    const seen = new Map<number, string[]>();
    for (const [who, app] of [
      ['a', t],
      ['b', other],
    ] as const) {
      app.app.ctx.outbox.register({
        name: 'test-split',
        handle: async (event: StoredEvent) => {
          seen.set(event.id, [...(seen.get(event.id) ?? []), who]);
          await new Promise((resolve) => setTimeout(resolve, 2));
        },
      });
    }
    let ids: number[] = [];
    try {
      const patient = await newPatient(t.app, nurse);
      const [otherDoctor] = await createUsers(other.app, 'doctor');
      const booked = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0
            ? bookOne(t.app, doctor, doctor, patient).catch(() => null)
            : bookOne(other.app, otherDoctor, otherDoctor, patient).catch(() => null),
        ),
      );
      await waitFor(async () => (await undispatched(t)) === 0, 10_000);
      for (const appt of booked) {
        if (appt !== null) ids.push((await eventsOf(t.app, appt.id))[0]?.id ?? -1);
      }
    } finally {
      await other.app.close();
    }
    ids = ids.filter((id) => id > 0);
    expect(ids.length).toBeGreaterThan(0);
    // Every event reached a consumer, and exactly one of the two instances ran it.
    for (const id of ids) expect(seen.get(id)).toHaveLength(1);
    expect([...seen.values()].filter((by) => by.length > 1)).toEqual([]);
  });

  it('ids follow commit visibility: an event committed later never gets an id below one already given', async () => {
    const client = new pg.Client({ connectionString: t.config.databaseUrl });
    await client.connect();
    try {
      const early = randomUUID();
      const late = randomUUID();
      await client.query('begin');
      await client.query(
        `insert into outbox_events (topic, aggregate_type, aggregate_id, payload)
         values ('test.early', 'test', $1, '{}')`,
        [early],
      );
      // A later transaction commits first.
      await t.app.ctx.db.execute(
        sql`insert into outbox_events (topic, aggregate_type, aggregate_id, payload)
            values ('test.late', 'test', ${late}, '{}')`,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Not numbered while an older transaction that may still add an event is open.
      expect((await eventsOf(t.app, late))[0]?.id).toBeNull();
      await client.query('commit');
      await waitFor(async () => (await eventsOf(t.app, late))[0]?.id != null, 3_000);
      const earlyId = (await eventsOf(t.app, early))[0]?.id ?? Infinity;
      const lateId = (await eventsOf(t.app, late))[0]?.id ?? -1;
      expect(earlyId).toBeLessThan(lateId);
    } finally {
      await client.end();
    }
  });
});
