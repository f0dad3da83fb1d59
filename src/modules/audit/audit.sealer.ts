import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../../context.js';
import type { DbOrTx } from '../../db/client.js';
import * as repo from './audit.repository.js';

/** Rows sealed per statement: large enough to keep up, small enough to stay well under a second. */
export const SEAL_BATCH = 2_000;

/**
 * Links every committed, unsealed audit row into the hash chain, batch after batch, until none
 * is left below the horizon. Returns the number sealed, or null when another sealer (another
 * instance, or this one's timer) holds the seal lock: it is doing the same work.
 */
export async function sealPending(db: DbOrTx, batch = SEAL_BATCH): Promise<number | null> {
  let total = 0;
  for (;;) {
    const sealed = await repo.sealBatch(db, batch);
    if (sealed < 0) return total > 0 ? total : null;
    total += sealed;
    if (sealed < batch) return total;
  }
}

export interface AuditSealer {
  /** Stops the timer and waits for a seal in progress (the database closes after this). */
  stop(): Promise<void>;
}

/** How often a failure to seal (e.g. the database is down) is logged at most. */
const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Every instance runs one: each tick, whichever instance takes the try-lock first seals; the
 * others find it taken and wait for the next tick. Ticks never overlap (the next is scheduled
 * when one ends), so sealing lag is at most one interval plus one seal.
 */
export function startAuditSealer(
  db: DbOrTx,
  intervalMs: number,
  log: FastifyBaseLogger,
): AuditSealer {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let lastFailureLog = -Infinity;

  const tick = async () => {
    try {
      await sealPending(db);
    } catch (error) {
      // Rows stay unsealed and are sealed by a later tick; nothing is lost.
      if (performance.now() - lastFailureLog > FAILURE_LOG_INTERVAL_MS) {
        lastFailureLog = performance.now();
        log.warn({ err: error }, 'could not seal the audit trail; retrying');
      }
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Sealing lag at scrape time: rows waiting for the chain, and how long the oldest has waited. */
export function registerSealingMetrics(ctx: Pick<AppContext, 'db' | 'metrics'>): void {
  ctx.metrics.gauge(
    'medcore_audit_unsealed_rows',
    'Audit rows not yet sealed into the hash chain',
    () => repo.countUnsealed(ctx.db),
  );
  ctx.metrics.gauge(
    'medcore_audit_oldest_unsealed_age_seconds',
    'Age of the oldest audit row not yet sealed (0 when all are sealed)',
    () => repo.oldestUnsealedAgeS(ctx.db),
  );
}
