import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { SignalBus } from '../../infra/signals.js';
import {
  createOutboxDispatcher,
  type DispatcherOptions,
  type OutboxConsumer,
} from './outbox.dispatcher.js';
import { createOutboxFeed, type OutboxFeed } from './outbox.feed.js';
import { committedEvents } from './outbox.service.js';

export type { OutboxConsumer } from './outbox.dispatcher.js';
export { registerOutboxMetrics } from './outbox.metrics.js';
export type { FeedSubscriber, OutboxFeed } from './outbox.feed.js';

/**
 * The outbox machinery of one instance: the dispatcher (numbering and handing events to the
 * registered consumers) and the feed (live tail for event streams). Built by buildApp; modules
 * register consumers while they are registered; it starts when the app is ready (so no event is
 * dispatched before every consumer is known) and stops before the database closes.
 */
export interface Outbox {
  register(consumer: OutboxConsumer): void;
  readonly feed: OutboxFeed;
  start(): void;
  stop(): Promise<void>;
}

export function createOutbox(options: {
  db: Db;
  bus: SignalBus;
  pollMs: number;
  log: FastifyBaseLogger;
  dispatcher?: Partial<
    Pick<DispatcherOptions, 'batch' | 'leaseMs' | 'retryBaseMs' | 'retryMaxMs' | 'retentionS'>
  >;
}): Outbox {
  const feed = createOutboxFeed(options.db, options.pollMs, options.log);
  const dispatcher = createOutboxDispatcher({
    ...options.dispatcher,
    db: options.db,
    log: options.log,
    pollMs: options.pollMs,
    // The hint reaches this instance at once and the others through Redis or NOTIFY.
    onSequenced: (top) => {
      options.bus.publish(String(top));
    },
  });
  const onCommitted = () => {
    dispatcher.wake();
  };
  let unsubscribe: (() => void) | undefined;
  return {
    register: (consumer) => {
      dispatcher.register(consumer);
    },
    feed,
    start() {
      committedEvents.on('committed', onCommitted);
      // Another instance numbered events: streams read them, and this dispatcher may help out.
      unsubscribe = options.bus.subscribe(() => {
        feed.notify();
        dispatcher.wake();
      });
      dispatcher.start();
    },
    async stop() {
      committedEvents.off('committed', onCommitted);
      unsubscribe?.();
      feed.close();
      await dispatcher.stop();
    },
  };
}
