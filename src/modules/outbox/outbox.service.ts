import { EventEmitter } from 'node:events';
import type { AppContext } from '../../context.js';
import type { DbOrTx, Tx } from '../../db/client.js';
import { afterCommit } from '../../lib/after-commit.js';
import * as repo from './outbox.repository.js';

export type { StoredEvent } from './outbox.repository.js';

/** A domain event as a module raises it. */
export interface NewEvent {
  /** `<aggregate>.<change>`, e.g. `appointment.booked`. */
  topic: string;
  aggregateType: string;
  aggregateId: string;
  /** Enough for every consumer to act without reading the aggregate again (e.g. the DTO). */
  payload: object;
}

/**
 * Tells this process's dispatchers that an event was committed, so they need not wait for the
 * next poll. Process-wide, because `appendEvent` is given only a transaction; a dispatcher of
 * another database in the same process (tests) merely looks once and finds nothing.
 */
export const committedEvents = new EventEmitter();
committedEvents.setMaxListeners(0);

/**
 * Writes `event` to the outbox inside `tx`, the transaction of the change it describes: the
 * event exists if and only if the change committed. Call it from within `auditedChange` (or
 * another `inTransaction`) so that the dispatcher wakes as soon as the commit is done.
 */
export async function appendEvent(tx: Tx, event: NewEvent): Promise<void> {
  await repo.insertEvent(tx, event);
  afterCommit(tx, () => committedEvents.emit('committed'));
}

/** Outbox backlog for metrics: events not yet handed to every consumer. */
export async function outboxBacklogCount(ctx: Pick<AppContext, 'db'>): Promise<number> {
  return (await repo.backlog(ctx.db)).count;
}

/** Age in seconds of the oldest event not yet handed to every consumer (0 when none). */
export async function outboxOldestAgeSeconds(ctx: Pick<AppContext, 'db'>): Promise<number> {
  return (await repo.backlog(ctx.db)).oldestAgeS;
}

/** Both backlog figures in one query (what a metrics scrape should call). */
export async function outboxBacklog(
  ctx: Pick<AppContext, 'db'>,
): Promise<{ count: number; oldestAgeS: number }> {
  return repo.backlog(ctx.db);
}

/** Numbered events after `afterId` whose topic starts with `topicPrefix`, in id order. */
export async function eventsAfter(
  db: DbOrTx,
  afterId: number,
  topicPrefix: string,
  limit = 500,
): Promise<repo.StoredEvent[]> {
  return repo.eventsAfter(db, afterId, topicPrefix, limit);
}
