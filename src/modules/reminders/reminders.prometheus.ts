import type { AppContext } from '../../context.js';
import { reminderTotals } from './reminders.metrics.js';
import { reminderBacklog } from './reminders.service.js';

/** Reminder jobs for Prometheus: sends by outcome (this process) and the due backlog. */
export function registerReminderMetrics(ctx: Pick<AppContext, 'db' | 'clock' | 'metrics'>): void {
  ctx.metrics.counterFrom(
    'medcore_jobs_total',
    'Background job outcomes in this process (reminders: sent, attempt_failed, failed, dropped)',
    ['job', 'outcome'],
    () => {
      const totals = reminderTotals();
      return [
        { labels: { job: 'reminder', outcome: 'sent' }, value: totals.sent },
        { labels: { job: 'reminder', outcome: 'attempt_failed' }, value: totals.attemptFailures },
        { labels: { job: 'reminder', outcome: 'failed' }, value: totals.failed },
        { labels: { job: 'reminder', outcome: 'dropped' }, value: totals.dropped },
      ];
    },
  );
  ctx.metrics.gauge(
    'medcore_reminders_due',
    'Appointment reminders due and not yet sent',
    async () => (await reminderBacklog(ctx)).due,
  );
}
