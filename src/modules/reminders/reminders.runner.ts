import type { FastifyBaseLogger } from 'fastify';
import { BATCH, runDueReminders, type ReminderContext } from './reminders.service.js';

export interface ReminderRunner {
  /** Stops the timer, hands back claims not yet being sent, and waits for sends in progress. */
  stop(): Promise<void>;
}

/** How often a failing pass (e.g. the database is down) is logged at most. */
const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Every instance runs one (like the audit sealer): each tick is one pass of runDueReminders.
 * Ticks never overlap (the next is scheduled when one ends); after a full batch the next pass
 * starts at once, so a backlog drains at send speed rather than one batch per interval.
 */
export function startReminderRunner(
  ctx: ReminderContext,
  intervalMs: number,
  log: FastifyBaseLogger,
): ReminderRunner {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let lastFailureLog = -Infinity;
  const stopping = new AbortController();

  const tick = async (): Promise<boolean> => {
    try {
      const pass = await runDueReminders(ctx, { log, signal: stopping.signal });
      return pass.claimed >= BATCH;
    } catch (error) {
      // Claimed reminders go back to the queue when their lease ends; nothing is lost.
      if (performance.now() - lastFailureLog > FAILURE_LOG_INTERVAL_MS) {
        lastFailureLog = performance.now();
        log.warn({ err: error }, 'could not run the reminder job; retrying');
      }
      return false;
    }
  };
  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().then((more) => {
        running = undefined;
        schedule(more ? 0 : intervalMs);
      });
    }, delayMs);
    timer.unref();
  };
  schedule(intervalMs);
  return {
    async stop() {
      stopped = true;
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
