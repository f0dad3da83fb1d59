import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import * as repo from './outbox.repository.js';

export interface FeedSubscriber {
  /** Topics starting with this (`appointment.`). */
  topicPrefix: string;
  /** Called in id order, once per event; must not throw. */
  send(event: repo.StoredEvent): void;
  /**
   * Called (before any event) when some events after the subscriber's Last-Event-ID were
   * already pruned (OUTBOX_RETENTION_HOURS): what it holds may be stale, and it should reload.
   */
  expired?(): void;
}

export interface OutboxFeed {
  /**
   * Adds a subscriber. With `afterId` (a Last-Event-ID), it first gets every numbered event
   * after it from the table, then the live ones, with no gap and no repeat between the two;
   * without, only events numbered from now on. Resolves when the subscriber is live.
   */
  subscribe(subscriber: FeedSubscriber, afterId?: number): Promise<() => void>;
  /** New events were numbered (on any instance): read them. */
  notify(): void;
  readonly size: number;
  close(): void;
}

const PAGE = 500;

/**
 * The live tail of the outbox for this instance's streams. One reader follows the table (woken
 * by the fan-out hint, and polling as a safety net) and hands each new event to the local
 * subscribers. Replays and live reads run one after the other on one queue, so a subscriber's
 * replay ends exactly where the live tail begins. Reads the same table on every instance, so a
 * client resumes on whichever instance it reconnects to.
 */
export function createOutboxFeed(db: Db, pollMs: number, log: FastifyBaseLogger): OutboxFeed {
  const live = new Set<FeedSubscriber>();
  /** Highest id handed to the live subscribers; unknown while there are none. */
  let cursor: number | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let pumpQueued = false;
  let closed = false;

  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  const pump = async () => {
    if (live.size === 0) {
      cursor = undefined;
      return;
    }
    cursor ??= await repo.maxEventId(db);
    for (;;) {
      const events = await repo.eventsAfter(db, cursor, '', PAGE);
      for (const event of events) {
        for (const subscriber of live) {
          if (event.topic.startsWith(subscriber.topicPrefix)) subscriber.send(event);
        }
        cursor = event.id;
      }
      if (events.length < PAGE) return;
    }
  };

  const notify = () => {
    if (pumpQueued || closed) return;
    pumpQueued = true;
    serial(async () => {
      pumpQueued = false;
      await pump();
    }).catch((error: unknown) => {
      log.warn({ err: error }, 'could not read new outbox events; retrying');
    });
  };

  const poll = setInterval(() => {
    if (live.size > 0) notify();
  }, pollMs);
  poll.unref();

  return {
    get size() {
      return live.size;
    },
    subscribe(subscriber, afterId) {
      return serial(async () => {
        cursor ??= await repo.maxEventId(db);
        const upTo = cursor;
        let from = afterId ?? upTo;
        // Ids have no holes (each is the highest plus one), so a kept lowest id above the next
        // one expected means events in between were deleted.
        if (afterId !== undefined && afterId < upTo && (await repo.minEventId(db)) > afterId + 1) {
          subscriber.expired?.();
        }
        while (from < upTo) {
          const events = await repo.eventsAfter(db, from, subscriber.topicPrefix, PAGE);
          for (const event of events) {
            if (event.id > upTo) break;
            subscriber.send(event);
          }
          const last = events.at(-1);
          if (events.length < PAGE || last === undefined || last.id >= upTo) break;
          from = last.id;
        }
        live.add(subscriber);
        return () => {
          live.delete(subscriber);
        };
      });
    },
    notify,
    close() {
      closed = true;
      clearInterval(poll);
      live.clear();
    },
  };
}
