/**
 * Audit sealing lag under load (issue 11: "sealing lag stays under 1 s at the benchmark load"):
 * while a measured run of an audited route goes on, the bench runner (not the server) reads
 * `medcore_audit_oldest_unsealed_age_seconds` from the server's GET /metrics every 200 ms. The
 * gauge is the age of the oldest audit row the sealer has not yet linked into the hash chain, so
 * its largest sample is the sealer's lag during the run (up to the sampling interval: a peak
 * between two samples is missed).
 *
 * Cheap for the server: one small request at a time on one keep-alive connection; a sample still
 * running when the next is due is not doubled, the tick is skipped. A failed or slow scrape is
 * counted, never thrown: a bench whose /metrics is unreachable reports "not measured".
 */
import { parseGauge } from './prometheus-gauge.js';

export const SEALING_GAUGE = 'medcore_audit_oldest_unsealed_age_seconds';

/** The samples of one measured run. */
export interface LagRun {
  /** Gauge values, seconds, in the order read. */
  values: number[];
  /** Scrapes that failed (unreachable, non-2xx, timed out, gauge missing). */
  failures: number;
  /** Why the last failed scrape failed, for the report. */
  lastFailure?: string;
}

export interface SamplerOptions {
  intervalMs?: number;
  /** A scrape slower than this counts as failed (its value would be stale anyway). */
  timeoutMs?: number;
  /** Sent as a bearer token when set: the server refuses /metrics without it (METRICS_TOKEN). */
  token?: string | undefined;
}

/** "fetch failed (ECONNREFUSED)" rather than a bare "fetch failed". */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? `${error.message} (${cause.code})` : error.message;
}

export class SealingLagSampler {
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private run: LagRun = { values: [], failures: 0 };

  constructor(
    private readonly baseUrl: string,
    options: SamplerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  }

  /** Starts a fresh run: one sample now, then one per interval until stop(). */
  start(): void {
    this.halt();
    this.run = { values: [], failures: 0 };
    this.tick();
    this.timer = setInterval(() => {
      this.tick();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Ends the run (waiting for a sample in flight) and returns its samples. */
  async stop(): Promise<LagRun> {
    this.halt();
    await this.inFlight;
    const run = this.run;
    this.run = { values: [], failures: 0 };
    return run;
  }

  private halt(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.inFlight !== undefined) return;
    const run = this.run;
    this.inFlight = this.sample()
      .then((value) => {
        run.values.push(value);
      })
      .catch((error: unknown) => {
        run.failures += 1;
        run.lastFailure = describe(error);
      })
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  private async sample(): Promise<number> {
    const response = await fetch(`${this.baseUrl}/metrics`, {
      headers: this.headers,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
    const value = parseGauge(text, SEALING_GAUGE);
    if (value === undefined) throw new Error(`/metrics has no ${SEALING_GAUGE}`);
    return value;
  }
}
