import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The instance's Prometheus registry (`GET /metrics`), and the one way code adds to it. Each app
 * has its own Registry (several apps in one test process never clash), with prom-client's
 * default process metrics (event-loop lag, heap, GC, handles).
 *
 * - `counter` / `histogram`: get-or-create by name, so a module may ask for the same metric from
 *   several places (e.g. `ctx.metrics.counter('medcore_jobs_total', '...', ['job', 'outcome'])`
 *   and `.inc({ job: 'reminder', outcome: 'sent' })`).
 * - `gauge`: a value read at scrape time from `collect` (a backlog count, an age in seconds), so
 *   the owner of the state needs no timer. A failing collect reports NaN instead of failing the
 *   whole scrape.
 */
export interface Metrics {
  readonly registry: Registry;
  counter<L extends string = string>(
    name: string,
    help: string,
    labelNames?: readonly L[],
  ): Counter<L>;
  histogram<L extends string = string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets?: number[],
  ): Histogram<L>;
  gauge(name: string, help: string, collect: () => number | Promise<number>): void;
  /** A gauge with labels: `collect` gives every labelled value at scrape time. */
  labelledGauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    collect: () =>
      | Promise<{ labels: Record<L, string>; value: number }[]>
      | { labels: Record<L, string>; value: number }[],
  ): void;
  /** A counter whose running total lives elsewhere (e.g. the session cache's hit count). */
  counterFrom<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    collect: () => { labels: Record<L, string>; value: number }[],
  ): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const existing = (name: string) => registry.getSingleMetric(name);

  return {
    registry,
    counter(name, help, labelNames = []) {
      // The registry holds what an earlier call made here under this name: a Counter.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      const found = existing(name) as Counter<(typeof labelNames)[number]> | undefined;
      return found ?? new Counter({ name, help, labelNames, registers: [registry] });
    },
    histogram(name, help, labelNames, buckets) {
      const found = existing(name) as Histogram<(typeof labelNames)[number]> | undefined;
      return (
        found ??
        new Histogram({
          name,
          help,
          labelNames,
          registers: [registry],
          ...(buckets ? { buckets } : {}),
        })
      );
    },
    gauge(name, help, collect) {
      if (existing(name)) registry.removeSingleMetric(name);
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          try {
            this.set(await collect());
          } catch {
            this.set(Number.NaN);
          }
        },
      });
    },
    labelledGauge(name, help, labelNames, collect) {
      if (existing(name)) registry.removeSingleMetric(name);
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.reset();
          try {
            for (const { labels, value } of await collect()) this.set(labels, value);
          } catch {
            // Nothing reported this scrape: the series are absent rather than wrong.
          }
        },
      });
    },
    counterFrom(name, help, labelNames, collect) {
      if (existing(name)) registry.removeSingleMetric(name);
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const { labels, value } of collect()) this.inc(labels, value);
        },
      });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
