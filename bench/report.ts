/**
 * bench/REPORT.md: one table per database, each route's req/s as a ratio to the bare Fastify
 * hello measured in the same run, next to issue 11's goals, a table of the audit sealing lag
 * sampled during the audited routes' runs (bench/sealing-sampler.ts) and a table of the mixed
 * loads (bench/mixed.ts). The same text goes to stdout.
 */
import type { LoadResult } from './load.js';
import type { MixedRuns } from './mixed.js';
import { summarize } from './prometheus-gauge.js';
import { mb } from './rss.js';
import type { DbKind, Route } from './routes.js';
import type { LagRun } from './sealing-sampler.js';

export interface RouteRuns {
  route: Route;
  connections: number;
  runs: LoadResult[];
  /** Peak RSS of the server's process tree during the measured runs, bytes. */
  peakRss: number;
  /** Audit sealing lag samples, one entry per measured run (audited routes only). */
  lag: LagRun[];
}

export interface TargetReport {
  kind: DbKind;
  seedSeconds: number;
  rssRest: number;
  rssPeak: number;
  /** The audit trail checked after all loads (bench/audit-lag.ts). */
  afterLoad: string;
  routes: RouteRuns[];
  mixed: MixedRuns[];
}

export interface BenchReport {
  date: string;
  machine: string[];
  command: string;
  notes: string[];
  targets: TargetReport[];
}

const titles: Record<DbKind, string> = {
  postgres: 'MedCore on PostgreSQL',
  embedded: 'MedCore on the embedded database (PGlite)',
};

// Issue 11, requirement 4 (MB).
const rssGoals: Record<DbKind, { rest: number; peak?: number }> = {
  postgres: { rest: 200 },
  embedded: { rest: 250, peak: 350 },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0
    ? ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
    : (sorted[mid] ?? 0);
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mark = (ok: boolean) => (ok ? '✓' : '✗');

function percent(ratio: number): string {
  const p = ratio * 100;
  return `${p >= 10 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toFixed(2)} %`;
}

function goalText(kind: DbKind, r: RouteRuns, ratio: number, p99: number): string {
  const parts: string[] = [];
  const minRatio = r.route.goal?.minRatio?.[kind];
  if (minRatio !== undefined) parts.push(`≥ ${percent(minRatio)} ${mark(ratio >= minRatio)}`);
  const maxP99 = r.route.goal?.maxP99?.[kind];
  if (maxP99 !== undefined) parts.push(`p99 < ${maxP99} ms ${mark(p99 < maxP99)}`);
  return parts.join('; ') || '–';
}

function table(target: TargetReport): string[] {
  const helloRuns = target.routes.find((r) => r.route.server === 'hello')?.runs ?? [];
  const hello = median(helloRuns.map((run) => run.rps));
  const lines = [
    '| route | conns | req/s | p50 ms | p99 ms | errors / non-2xx | % of hello | goal (issue 11) | peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of target.routes) {
    const rps = r.runs.map((run) => run.rps);
    const p99 = Math.max(...r.runs.map((run) => run.p99));
    const ratio = hello > 0 ? median(rps) / hello : 0;
    const range = rps.length > 1 ? ` (${int(Math.min(...rps))}–${int(Math.max(...rps))})` : '';
    const errors = r.runs.reduce((sum, run) => sum + run.errors, 0);
    const non2xx = r.runs.reduce((sum, run) => sum + run.non2xx, 0);
    const peak = r.route.server === 'hello' ? '–' : String(mb(r.peakRss));
    lines.push(
      `| ${r.route.name} | ${r.connections} | ${int(median(rps))}${range} | ` +
        `${median(r.runs.map((run) => run.p50))} | ${p99} | ${errors} / ${non2xx} | ` +
        `${percent(ratio)} | ${goalText(target.kind, r, ratio, p99)} | ${peak} |`,
    );
  }
  return lines;
}

// Issue 11, requirement 1: "sealing lag stays under 1 s at the benchmark load".
export const MAX_SEALING_LAG_S = 1;

const seconds = (s: number) => s.toFixed(2);

/** The samples of several runs as one series, with how many scrapes failed and the last reason. */
function pooled(runs: LagRun[]) {
  const failures = runs.reduce((total, run) => total + run.failures, 0);
  const lastFailure = runs.findLast((run) => run.lastFailure !== undefined)?.lastFailure;
  return { summary: summarize(runs.flatMap((run) => run.values)), failures, lastFailure };
}

/** One line for the runner's progress output: "sealing lag max 0.31 s (15 samples)". */
export function lagLine(run: LagRun | undefined): string {
  const { summary, failures, lastFailure } = pooled(run === undefined ? [] : [run]);
  if (summary === undefined) return `sealing lag not measured (${lastFailure ?? 'no sample'})`;
  const failed = failures > 0 ? `, ${failures} failed` : '';
  return `sealing lag max ${seconds(summary.max)} s (${summary.samples} samples${failed})`;
}

/** Audited routes: the sealing lag over their measured runs, pooled over the rounds. */
export function lagTable(target: Pick<TargetReport, 'routes'>): string[] {
  const lines = [
    '| route | samples | median s | p99 s | max s | goal (issue 11) |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const r of target.routes.filter((route) => route.route.audited)) {
    const { summary, failures, lastFailure } = pooled(r.lag);
    const failed = failures > 0 ? ` (${failures} failed)` : '';
    if (summary === undefined) {
      lines.push(
        `| ${r.route.name} | 0${failed} | not measured (${lastFailure ?? 'no sample'}) | | | – |`,
      );
      continue;
    }
    const ok = summary.max < MAX_SEALING_LAG_S;
    lines.push(
      `| ${r.route.name} | ${summary.samples}${failed} | ${seconds(summary.median)} | ` +
        `${seconds(summary.p99)} | ${seconds(summary.max)} | < ${MAX_SEALING_LAG_S} s ${mark(ok)} |`,
    );
  }
  return lines;
}

/** "Audit sealing lag under load: max X s (goal < 1 s) ✓" over every audited route. */
export function lagVerdict(target: Pick<TargetReport, 'routes'>): string {
  const audited = target.routes.filter((r) => r.route.audited);
  const { summary } = pooled(audited.flatMap((r) => r.lag));
  const goal = `goal < ${MAX_SEALING_LAG_S} s`;
  if (summary === undefined) return `Audit sealing lag under load: not measured (${goal})`;
  const unmeasured = audited.filter((r) => pooled(r.lag).summary === undefined).length;
  const partly = unmeasured > 0 ? `; ${unmeasured} route(s) not measured` : '';
  return (
    `Audit sealing lag under load: max ${seconds(summary.max)} s (${goal}) ` +
    `${mark(summary.max < MAX_SEALING_LAG_S)}${partly}`
  );
}

function sum(runs: LoadResult[], field: 'errors' | 'non2xx'): number {
  return runs.reduce((total, run) => total + run[field], 0);
}

function mixedTable(scenarios: MixedRuns[]): string[] {
  const lines = [
    '| scenario | route | conns | req/s | p50 ms | p99 ms | errors / non-2xx | goal (issue 11) | peak RSS MB |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const scenario of scenarios) {
    scenario.loads.forEach((load, i) => {
      const rps = load.runs.map((run) => run.rps);
      const p99 = Math.max(...load.runs.map((run) => run.p99));
      const range = rps.length > 1 ? ` (${int(Math.min(...rps))}–${int(Math.max(...rps))})` : '';
      const goal = load.probe ? `p99 < ${scenario.maxP99} ms ${mark(p99 < scenario.maxP99)}` : '–';
      lines.push(
        `| ${i === 0 ? scenario.name : ''} | ${load.route.name}${load.probe ? '' : ' (load)'} | ` +
          `${load.connections} | ${int(median(rps))}${range} | ` +
          `${median(load.runs.map((run) => run.p50))} | ${p99} | ` +
          `${sum(load.runs, 'errors')} / ${sum(load.runs, 'non2xx')} | ${goal} | ` +
          `${i === 0 ? String(mb(scenario.peakRss)) : ''} |`,
      );
    });
  }
  return lines;
}

function targetSection(target: TargetReport): string[] {
  const goal = rssGoals[target.kind];
  const rest = mb(target.rssRest);
  const peak = mb(target.rssPeak);
  const peakGoal =
    goal.peak === undefined ? '' : ` (goal ≤ ${goal.peak} MB ${mark(peak <= goal.peak)})`;
  const measured = [
    ...target.routes.map((r) => ({ name: r.route.name, runs: r.runs })),
    ...target.mixed.flatMap((scenario) =>
      scenario.loads.map((load) => ({
        name: `${load.route.name} (mixed: ${scenario.name})`,
        runs: load.runs,
      })),
    ),
  ];
  const failures = measured.flatMap((r) => {
    const statuses: Record<string, number> = {};
    for (const run of r.runs) {
      for (const [status, count] of Object.entries(run.otherStatuses)) {
        statuses[status] = (statuses[status] ?? 0) + count;
      }
    }
    const list = Object.entries(statuses).map(([status, count]) => `${count} × ${status}`);
    return list.length > 0 ? [`- non-2xx on ${r.name}: ${list.join(', ')}`] : [];
  });
  return [
    `## ${titles[target.kind]}`,
    '',
    ...table(target),
    '',
    `- Server RSS (whole process tree) at rest: ${rest} MB (goal ≤ ${goal.rest} MB ` +
      `${mark(rest <= goal.rest)}); peak under load: ${peak} MB${peakGoal}`,
    `- ${lagVerdict(target)}`,
    `- Audit trail after all loads (GET /admin/audit/verify until no row is unsealed; not the ` +
      `sealer's lag): ${target.afterLoad}`,
    `- Seeding took ${target.seedSeconds.toFixed(1)} s`,
    ...failures,
    '',
    `### Audit sealing lag under load ${titles[target.kind].replace(/^MedCore /, '')}`,
    '',
    ...lagTable(target),
    '',
    `### Mixed loads ${titles[target.kind].replace(/^MedCore /, '')}`,
    '',
    ...mixedTable(target.mixed),
    '',
  ];
}

export function renderReport(report: BenchReport): string {
  return [
    '# MedCore benchmark (issue 11)',
    '',
    `Date: ${report.date}`,
    '',
    ...report.machine.map((line) => `- ${line}`),
    '',
    `Command: \`${report.command}\``,
    '',
    ...report.notes.map((line) => `- ${line}`),
    '',
    ...report.targets.flatMap(targetSection),
  ].join('\n');
}
