/**
 * bench/REPORT.md: one table per database, each route's req/s as a ratio to the bare Fastify
 * hello measured in the same run, next to issue 11's goals, and a table of the mixed loads
 * (bench/mixed.ts). The same text goes to stdout.
 */
import type { LoadResult } from './load.js';
import type { MixedRuns } from './mixed.js';
import { mb } from './rss.js';
import type { DbKind, Route } from './routes.js';

export interface RouteRuns {
  route: Route;
  connections: number;
  runs: LoadResult[];
  /** Peak RSS of the server's process tree during the measured runs, bytes. */
  peakRss: number;
}

export interface TargetReport {
  kind: DbKind;
  seedSeconds: number;
  rssRest: number;
  rssPeak: number;
  sealing: string;
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
    `- Audit sealing after the load (goal < 1 s): ${target.sealing}`,
    `- Seeding took ${target.seedSeconds.toFixed(1)} s`,
    ...failures,
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
