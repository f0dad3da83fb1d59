import type { AppContext } from '../../context.js';
import { outboxBacklog } from './outbox.service.js';

/**
 * Outbox backlog at scrape time: events not yet handed to every consumer, and how long the
 * oldest has waited. One query per scrape serves both gauges (read once, used twice).
 */
export function registerOutboxMetrics(ctx: Pick<AppContext, 'db' | 'metrics'>): void {
  let pending: Promise<{ count: number; oldestAgeS: number }> | undefined;
  const read = () => {
    pending ??= outboxBacklog(ctx).finally(() => {
      pending = undefined;
    });
    return pending;
  };
  ctx.metrics.gauge(
    'medcore_outbox_backlog',
    'Outbox events not yet dispatched to every consumer',
    async () => (await read()).count,
  );
  ctx.metrics.gauge(
    'medcore_outbox_oldest_age_seconds',
    'Age of the oldest outbox event not yet dispatched (0 when none)',
    async () => (await read()).oldestAgeS,
  );
}
