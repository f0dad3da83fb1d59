/**
 * Reading one gauge out of a Prometheus text exposition (what GET /metrics answers), and the
 * figures the bench report gives for a series of its samples. Pure functions, so the sealing-lag
 * sampler (bench/sealing-sampler.ts) can be tested without a server (test/bench-gauge.test.ts).
 */

const VALUE = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
// `{name="value",...}`: a quoted value may hold `}` or an escaped quote.
const LABELS = /^\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\}/;

/**
 * The value of the first sample of `name` (labelled or not), or undefined when the text has none
 * or its value is not a finite number (NaN, ±Inf). Comment lines (# HELP, # TYPE) are skipped;
 * a longer name sharing the prefix (`name_total`) is not taken for `name`.
 */
export function parseGauge(text: string, name: string): number | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith(name)) continue;
    let rest = line.slice(name.length);
    if (rest.startsWith('{')) {
      const labels = LABELS.exec(rest);
      if (labels === null) continue;
      rest = rest.slice(labels[0].length);
    } else if (!/^\s/.test(rest)) {
      continue;
    }
    // "value [timestamp]"
    const value = rest.trim().split(/\s+/)[0] ?? '';
    return VALUE.test(value) ? Number(value) : undefined;
  }
  return undefined;
}

export interface SampleSummary {
  samples: number;
  median: number;
  /** Nearest-rank 99th percentile: with fewer than 100 samples, the largest or close to it. */
  p99: number;
  max: number;
}

/** Median, p99 and max of `values`; undefined when there are none. */
export function summarize(values: readonly number[]): SampleSummary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const at = (i: number) => sorted[Math.min(n - 1, Math.max(0, i))] ?? 0;
  const mid = Math.floor(n / 2);
  return {
    samples: n,
    median: n % 2 === 0 ? (at(mid - 1) + at(mid)) / 2 : at(mid),
    p99: at(Math.ceil(0.99 * n) - 1),
    max: at(n - 1),
  };
}
