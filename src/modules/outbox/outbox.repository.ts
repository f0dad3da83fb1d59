import { sql } from 'drizzle-orm';
import { rowsOf, type DbOrTx } from '../../db/client.js';
import { outboxEvents } from '../../db/schema/outbox.js';

/** An event as consumers and streams see it: the public id, never the internal insert order. */
export interface StoredEvent {
  id: number;
  topic: string;
  aggregateType: string;
  aggregateId: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export interface ClaimedEvent extends StoredEvent {
  seq: number;
  attempts: number;
  doneConsumers: string[];
}

interface RawEvent {
  seq: string;
  id: string;
  topic: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: Record<string, unknown>;
  created_at: Date | string;
  attempts: number;
  done_consumers: string[];
}

function toEvent(row: RawEvent): ClaimedEvent {
  return {
    seq: Number(row.seq),
    id: Number(row.id),
    topic: row.topic,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    payload: row.payload,
    createdAt: new Date(row.created_at),
    attempts: row.attempts,
    doneConsumers: row.done_consumers,
  };
}

/** A text[] parameter (drizzle would spread a JS array into a list of parameters). */
function consumerArray(names: string[]) {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(names)}::jsonb))`;
}

export async function insertEvent(
  tx: DbOrTx,
  event: { topic: string; aggregateType: string; aggregateId: string; payload: object },
): Promise<void> {
  await tx.insert(outboxEvents).values({
    topic: event.topic,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    payload: event.payload as Record<string, unknown>,
  });
}

// Any constant; the same on every instance of one database.
const SEQUENCER_LOCK = 727_354_016;

/**
 * Gives public ids to up to `limit` committed rows, in (tx_id, seq) order, under a try-lock held
 * to the commit. Only rows of transactions older than the oldest one still open are numbered:
 * those are final, and every later writer sorts after them, so ids only ever grow in the order
 * readers can see them. Returns the highest id given, 0 when there was nothing to number, or -1
 * when another instance is numbering. Must run inside a READ COMMITTED transaction.
 */
export async function sequenceBatch(tx: DbOrTx, limit: number): Promise<number> {
  const [lock] = rowsOf<{ ok: boolean }>(
    await tx.execute(sql`select pg_try_advisory_xact_lock(${SEQUENCER_LOCK}) as ok`),
  );
  if (lock?.ok !== true) return -1;
  // A new statement, so its snapshot sees the previous sequencer's commit.
  const [row] = rowsOf<{ top: string | null }>(
    await tx.execute(sql`
      with batch as (
        select seq, row_number() over (order by tx_id, seq) as n
          from outbox_events
         where id is null
           and tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
         order by tx_id, seq
         limit ${limit}
      ), base as (select coalesce(max(id), 0) as top from outbox_events),
      numbered as (
        update outbox_events o
           set id = base.top + batch.n, sequenced_at = clock_timestamp()
          from batch, base
         where o.seq = batch.seq
        returning o.id
      )
      select max(id)::text as top from numbered`),
  );
  return row?.top == null ? 0 : Number(row.top);
}

/** Whether committed-or-not rows still wait for a number (cheap: a partial index holds them). */
export async function hasUnsequenced(db: DbOrTx): Promise<boolean> {
  const rows = rowsOf<{ one: number }>(
    await db.execute(sql`select 1 as one from outbox_events where id is null limit 1`),
  );
  return rows.length > 0;
}

/**
 * Claims up to `limit` numbered, undispatched events whose time has come, lowest id first. The
 * lease (`available_at` pushed `leaseMs` ahead) keeps other instances away while this one runs
 * the consumers; if it dies, the lease runs out and another instance takes the events again.
 * SKIP LOCKED lets concurrent claimers take disjoint rows instead of waiting for each other.
 */
export async function claimBatch(
  db: DbOrTx,
  token: string,
  limit: number,
  leaseMs: number,
): Promise<ClaimedEvent[]> {
  const rows = rowsOf<RawEvent>(
    await db.execute(sql`
      with due as (
        select seq from outbox_events
         where dispatched_at is null and id is not null and available_at <= now()
         order by id
         limit ${limit}
         for update skip locked)
      update outbox_events o
         set available_at = now() + make_interval(secs => ${leaseMs / 1000}),
             claim_token = ${token}::uuid,
             attempts = o.attempts + 1
        from due
       where o.seq = due.seq
      returning o.seq::text, o.id::text, o.topic, o.aggregate_type, o.aggregate_id, o.payload,
                o.created_at, o.attempts, o.done_consumers`),
  );
  return rows.map(toEvent).sort((a, b) => a.id - b.id);
}

/** Every consumer has these events: they are done. Only the holder of the claim may say so. */
export async function markDispatched(
  db: DbOrTx,
  token: string,
  events: { seq: number; done: string[] }[],
): Promise<void> {
  if (events.length === 0) return;
  await db.execute(sql`
    update outbox_events o
       set dispatched_at = now(),
           done_consumers = array(select jsonb_array_elements_text(x.done)),
           claim_token = null, last_error = null
      from jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as x(seq bigint, done jsonb)
     where o.seq = x.seq and o.claim_token = ${token}::uuid`);
}

/** Some consumer failed: remember who already has it, and try the rest again after `delayMs`. */
export async function scheduleRetry(
  db: DbOrTx,
  seq: number,
  token: string,
  done: string[],
  delayMs: number,
  error: string,
): Promise<void> {
  await db.execute(sql`
    update outbox_events
       set available_at = now() + make_interval(secs => ${delayMs / 1000}),
           done_consumers = ${consumerArray(done)}, claim_token = null, last_error = ${error}
     where seq = ${seq} and claim_token = ${token}::uuid`);
}

/** Numbered events after `afterId` (topic prefix filter), in id order: replay and live tail. */
export async function eventsAfter(
  db: DbOrTx,
  afterId: number,
  topicPrefix: string,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = rowsOf<RawEvent>(
    await db.execute(sql`
      select seq::text, id::text, topic, aggregate_type, aggregate_id, payload, created_at,
             attempts, done_consumers
        from outbox_events
       where id > ${afterId} and starts_with(topic, ${topicPrefix})
       order by id
       limit ${limit}`),
  );
  return rows.map(toEvent);
}

/**
 * Deletes up to `limit` events dispatched more than `retentionS` ago (by the database's clock, the
 * same for every instance). The newest numbered event always stays: the next id is the highest
 * one plus one, so an empty table would number from 1 again, below ids clients already hold.
 */
export async function pruneDispatched(
  db: DbOrTx,
  retentionS: number,
  limit: number,
): Promise<number> {
  const rows = rowsOf<{ seq: string }>(
    await db.execute(sql`
      with doomed as (
        select seq from outbox_events
         where dispatched_at < clock_timestamp() - make_interval(secs => ${retentionS})
           and id < (select max(id) from outbox_events)
         order by seq
         limit ${limit})
      delete from outbox_events o using doomed where o.seq = doomed.seq
      returning o.seq::text`),
  );
  return rows.length;
}

/** The lowest numbered id still kept (0 when none is): below it, events were pruned. */
export async function minEventId(db: DbOrTx): Promise<number> {
  const [row] = rowsOf<{ low: string | null }>(
    await db.execute(sql`select min(id)::text as low from outbox_events`),
  );
  return row?.low == null ? 0 : Number(row.low);
}

export async function maxEventId(db: DbOrTx): Promise<number> {
  const [row] = rowsOf<{ top: string | null }>(
    await db.execute(sql`select max(id)::text as top from outbox_events`),
  );
  return row?.top == null ? 0 : Number(row.top);
}

/** Events not yet handed to every consumer, and the age of the oldest (for metrics). */
export async function backlog(db: DbOrTx): Promise<{ count: number; oldestAgeS: number }> {
  const [row] = rowsOf<{ n: string; age: number | null }>(
    await db.execute(sql`
      select count(*)::text as n,
             extract(epoch from (clock_timestamp() - min(created_at)))::float8 as age
        from outbox_events where dispatched_at is null`),
  );
  return { count: Number(row?.n ?? 0), oldestAgeS: row?.age ?? 0 };
}
