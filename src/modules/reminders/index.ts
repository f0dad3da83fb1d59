import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { registerReminderMetrics } from './reminders.prometheus.js';
import { startReminderRunner } from './reminders.runner.js';

export { reminderTotals, type ReminderTotals } from './reminders.metrics.js';
export { reminderBacklog } from './reminders.service.js';

/**
 * Appointment reminder emails: no routes, a background job on every instance, started with the
 * app and stopped before the database closes. Off (no job at all) when REMINDER_LEAD_MINUTES is
 * 0 or empty.
 */
export const remindersModule: FastifyPluginAsync<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'mailer' | 'metrics'>;
}> = async (app, opts) => {
  const { ctx } = opts;
  const log = app.log.child({ module: 'reminders' });
  if (ctx.config.reminderLeadMinutes.length === 0) {
    log.info('appointment reminders are off (REMINDER_LEAD_MINUTES)');
    return;
  }
  registerReminderMetrics(ctx);
  const runner = startReminderRunner(ctx, ctx.config.jobsPollIntervalMs, log);
  app.addHook('onClose', () => runner.stop());
};
