import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import * as repo from './outbox.repository.js';

/** An in-process receiver of outbox events (reminders, ...). Must be idempotent by event id. */
export interface OutboxConsumer {
  /** Stable: the outbox remembers per event which consumers already have it. */
  name: string;
  /** Topic prefixes it wants (`appointment.`); all topics when absent. */
  topics?: readonly string[];
  handle(event: repo.StoredEvent): Promise<void>;
}

export interface DispatcherOptions {
  db: Db;
  log: FastifyBaseLogger;
  /** JOBS_POLL_INTERVAL_MS: the longest an event waits when no wake-up reaches this instance. */
  pollMs: number;
  /** Called with the highest id after this instance numbered new events (fan-out hint). */
  onSequenced: (topId: number) => void;
  batch?: number;
  /** How long a claim keeps other instances away; a dead claimer's events return after it. */
  leaseMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** OUTBOX_RETENTION_HOURS in seconds: dispatched events older than this are deleted; 0 keeps all. */
  retentionS?: number;
}

export interface OutboxDispatcher {
  register(consumer: OutboxConsumer): void;
  start(): void;
  /** Look now (an event was committed here, or another instance numbered some). */
  wake(): void;
  /** Stops the loop and waits for a pass in progress (the database closes after this). */
  stop(): Promise<void>;
}

const SEQUENCE_BATCH = 1_000;
/** Pruning runs at most this often per instance, in batches of PRUNE_BATCH (short statements). */
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_BATCH = 5_000;
const FAILURE_LOG_INTERVAL_MS = 30_000;

/** Exponential backoff with jitter: base, 2x, 4x ... capped; never all retries at one instant. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(exp / 2 + (Math.random() * exp) / 2);
}

/**
 * Every instance runs one. A pass numbers committed events (one instance at a time, under a
 * try-lock; see sequenceBatch), then claims a batch of numbered, undispatched events with FOR
 * UPDATE SKIP LOCKED and a lease, hands each to the consumers that want it, and only then marks
 * it dispatched: a crash at any point loses nothing (the lease runs out, another pass takes the
 * event again), so consumers get every event at least once. A failing consumer is retried with
 * backoff, without running again the consumers that already succeeded and without holding up
 * other events. Passes never overlap; after a pass that left work, the next comes soon.
 */
export function createOutboxDispatcher(options: DispatcherOptions): OutboxDispatcher {
  const { db, log } = options;
  const batch = options.batch ?? 100;
  const leaseMs = options.leaseMs ?? 30_000;
  const retryBaseMs = options.retryBaseMs ?? 1_000;
  const retryMaxMs = options.retryMaxMs ?? 300_000;
  const consumers: OutboxConsumer[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let started = false;
  let stopped = false;
  let wokenDuringPass = false;
  let soonMs = 0;
  let lastFailureLog = -Infinity;
  let nextPruneAt = 0;

  const wants = (consumer: OutboxConsumer, topic: string) =>
    consumer.topics === undefined || consumer.topics.some((prefix) => topic.startsWith(prefix));

  /** Runs the consumers of one event; returns who has it when all succeeded, else null. */
  const deliver = async (event: repo.ClaimedEvent, token: string): Promise<string[] | null> => {
    const done = new Set(event.doneConsumers);
    let failure: unknown;
    for (const consumer of consumers) {
      if (done.has(consumer.name) || !wants(consumer, event.topic)) continue;
      try {
        await consumer.handle(event);
        done.add(consumer.name);
      } catch (error) {
        failure ??= error;
        log.warn(
          { err: error, consumer: consumer.name, event_id: event.id, attempts: event.attempts },
          'outbox consumer failed; will retry',
        );
      }
    }
    if (failure === undefined) return [...done];
    const delay = retryDelayMs(event.attempts, retryBaseMs, retryMaxMs);
    const message = failure instanceof Error ? failure.message : 'the consumer failed';
    await repo.scheduleRetry(db, event.seq, token, [...done], delay, message.slice(0, 500));
    return null;
  };

  /** Deletes old dispatched events now and then; true when a full batch went (more may wait). */
  const prune = async (): Promise<boolean> => {
    const retentionS = options.retentionS ?? 0;
    if (retentionS <= 0 || performance.now() < nextPruneAt) return false;
    const pruned = await repo.pruneDispatched(db, retentionS, PRUNE_BATCH);
    nextPruneAt = pruned === PRUNE_BATCH ? 0 : performance.now() + PRUNE_EVERY_MS;
    return pruned === PRUNE_BATCH;
  };

  /** One pass: whether there is (or may soon be) more to do, and whether it did anything. */
  const pass = async (): Promise<{ more: boolean; progressed: boolean }> => {
    const top = await db.transaction((tx) => repo.sequenceBatch(tx, SEQUENCE_BATCH));
    if (top > 0) options.onSequenced(top);
    let more = top === -1 || (top >= 0 && (await repo.hasUnsequenced(db)));
    const token = randomUUID();
    const claimed = await repo.claimBatch(db, token, batch, leaseMs);
    const delivered: { seq: number; done: string[] }[] = [];
    for (const event of claimed) {
      const done = await deliver(event, token);
      if (done !== null) delivered.push({ seq: event.seq, done });
    }
    // One statement for the batch; a crash before it only means the batch runs again.
    await repo.markDispatched(db, token, delivered);
    if (claimed.length === batch) more = true;
    if (await prune()) more = true;
    return { more, progressed: top > 0 || claimed.length > 0 };
  };

  const tick = async () => {
    let more = false;
    let progressed = false;
    try {
      ({ more, progressed } = await pass());
    } catch (error) {
      // Events stay in the table and a later pass takes them; nothing is lost.
      if (performance.now() - lastFailureLog > FAILURE_LOG_INTERVAL_MS) {
        lastFailureLog = performance.now();
        log.warn({ err: error }, 'outbox dispatch failed; retrying');
      }
    }
    // More to do: again at once while passes make progress (a steady load); while they wait
    // for an older transaction to end (or for the other sequencer), after 5, 10, 20 ms ... up
    // to the poll interval, so a long transaction elsewhere does not make this spin.
    if (!more) soonMs = 0;
    else if (progressed) soonMs = 1;
    else soonMs = Math.min(options.pollMs, soonMs <= 1 ? 5 : soonMs * 2);
  };

  const home = new AsyncResource('medcore.outbox-dispatcher');
  const schedule = (delayMs: number) => {
    if (stopped) return;
    clearTimeout(timer);
    // Passes run in the dispatcher's own async context, not in that of the request whose commit
    // woke it: the work is shared by every request (request-scoped logs and statement counts
    // would otherwise charge a batch to whichever request happened to wake it).
    timer = setTimeout(
      home.bind(() => {
        timer = undefined;
        wokenDuringPass = false;
        running = tick().finally(() => {
          running = undefined;
          schedule(wokenDuringPass ? 0 : soonMs || options.pollMs);
        });
      }),
      delayMs,
    );
    timer.unref();
  };

  return {
    register(consumer) {
      if (consumers.some((c) => c.name === consumer.name)) {
        throw new Error(`outbox consumer ${consumer.name} is registered twice`);
      }
      consumers.push(consumer);
    },
    start() {
      if (started) return;
      started = true;
      schedule(0);
    },
    wake() {
      if (!started || stopped) return;
      if (running !== undefined) wokenDuringPass = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
