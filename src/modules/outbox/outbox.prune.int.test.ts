import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../db/client.js';
import { buildTestApp, createUsers, type TestApp, type TestUser } from '../../../test/helpers.js';
import { OPEN_ALL_DAY } from '../../../test/working-hours.js';
import { createOutboxDispatcher } from './outbox.dispatcher.js';
import { pruneDispatched } from './outbox.repository.js';
import { bookOne, newPatient, openSse, waitFor, type SseClient } from './outbox.test-support.js';

/** Old dispatched events are deleted (OUTBOX_RETENTION_HOURS); numbering and streams go on. */
let t: TestApp;
let base: string;
let doctor: TestUser;
let nurse: TestUser;
const streams: SseClient[] = [];

beforeAll(async () => {
  t = await buildTestApp(OPEN_ALL_DAY);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${String(address.port)}`;
  [doctor, nurse] = await createUsers(t.app, 'doctor', 'nurse');
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await t.close();
});

interface Row {
  id: number | null;
  dispatched: boolean;
}

async function rows(): Promise<Row[]> {
  return rowsOf<Row>(
    await t.app.ctx.db.execute(sql`
      select id::int, dispatched_at is not null as dispatched from outbox_events order by seq`),
  );
}

/** Books `n` appointments and waits until every event is numbered and dispatched. */
async function bookAndSettle(n: number): Promise<number[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await bookOne(t.app, nurse, doctor, await newPatient(t.app, nurse))).id);
  }
  await waitFor(async () => (await rows()).every((row) => row.dispatched));
  const numbered = rowsOf<{ id: number }>(
    await t.app.ctx.db.execute(sql`
      select id::int from outbox_events where aggregate_id in ${ids} order by id`),
  );
  return numbered.map((row) => row.id);
}

async function age(hours: number): Promise<void> {
  await t.app.ctx.db.execute(sql`
    update outbox_events set dispatched_at = clock_timestamp() - make_interval(hours => ${hours})
     where dispatched_at is not null`);
}

describe('pruning the outbox', () => {
  it('deletes dispatched events past the retention, keeps the newest, and numbering goes on from it', async () => {
    const ids = await bookAndSettle(3);
    await age(3);
    // Dispatched 3 h ago: kept under a 4 h retention.
    expect(await pruneDispatched(t.app.ctx.db, 4 * 3600, 100)).toBe(0);
    const before = await rows();
    expect(await pruneDispatched(t.app.ctx.db, 3600, 100)).toBe(before.length - 1);
    const top = Math.max(...ids);
    expect((await rows()).map((row) => row.id)).toEqual([top]);

    const [next] = await bookAndSettle(1);
    expect(next).toBe(top + 1);
  });

  it('is done by the dispatcher, in batches, when a retention is set', async () => {
    await bookAndSettle(3);
    await age(2);
    const dispatcher = createOutboxDispatcher({
      db: t.app.ctx.db,
      log: t.app.log,
      pollMs: 50,
      onSequenced: () => undefined,
      retentionS: 3600,
    });
    dispatcher.start();
    try {
      await waitFor(async () => (await rows()).length === 1);
    } finally {
      await dispatcher.stop();
    }
  });

  it('a stream resuming after pruned events is told to reset, then gets what is kept', async () => {
    const [first] = await bookAndSettle(2);
    await age(2);
    await pruneDispatched(t.app.ctx.db, 3600, 100);
    const kept = await bookAndSettle(1);

    const resumed = await openSse(base, doctor.accessToken, {
      'last-event-id': String((first ?? 0) - 1),
    });
    streams.push(resumed);
    await waitFor(() => resumed.messages.some((m) => Number(m.id) === kept[0]));
    const [reset, ...events] = resumed.messages;
    expect(reset).toMatchObject({ id: undefined, event: 'reset' });
    expect(JSON.parse(reset?.data ?? '{}')).toEqual({ reason: 'events_expired' });
    expect(events.every((m) => m.event?.startsWith('appointment.'))).toBe(true);

    // Resuming from an id that is still kept: no reset.
    const fresh = await openSse(base, doctor.accessToken, {
      'last-event-id': String(kept[0] ?? 0),
    });
    streams.push(fresh);
    const [next] = await bookAndSettle(1);
    await waitFor(() => fresh.messages.some((m) => Number(m.id) === next));
    expect(fresh.messages.map((m) => m.event)).not.toContain('reset');
  });
});
