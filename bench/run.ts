/**
 * `npm run bench` (issue 11, requirement 5). After `npm run build`, per database (PostgreSQL when
 * BENCH_DATABASE_URL is set, then embedded PGlite): seed, start the built server as its own
 * process, read its RSS at rest, then per round and route a warm-up and a measured autocannon run
 * (each in a child process), sampling the server's RSS, and during the measured runs of audited
 * routes its audit sealing lag from GET /metrics (bench/sealing-sampler.ts); then the mixed loads
 * (bench/mixed.ts: routes driven together from parallel children); then a check of the audit
 * trail after the load (bench/audit-lag.ts). The bare
 * Fastify hello server runs beside it as the ceiling. Writes bench/REPORT.md, prints it to stdout.
 * Settings: bench/settings.ts. Everything listens on 127.0.0.1; all children stop at the end.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { auditAfterLoad } from './audit-lag.js';
import { firstMondayAfter, type BookingPlan } from './booking.js';
import { runLoad, type LoadSpec } from './load.js';
import { measureMixed } from './mixed.js';
import { cleanup, hasExited, onCleanup, repoRoot, track } from './processes.js';
import { lagLine, renderReport, type RouteRuns, type TargetReport } from './report.js';
import { routes, typo, type DbKind, type Route } from './routes.js';
import { RssSampler, mb, treeRss } from './rss.js';
import { SealingLagSampler } from './sealing-sampler.js';
import { benchAdmin, postJson, waitForHttp } from './server.js';
import { isFullRun, settings } from './settings.js';
import { freePort, openTarget, type Target } from './target.js';

interface Hello {
  url: string;
  sampler: RssSampler;
  rest: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// The seeded appointments lie in January 2026 (bench/generate-patients.ts); bookings come after.
const afterSeededAppointments = new Date('2026-02-01T00:00:00Z');

async function startHello(): Promise<Hello> {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, ['bench/hello-server.js', String(port)], {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  );
  onCleanup(async () => {
    if (hasExited(child)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, 30_000, () => hasExited(child));
  const pid = child.pid ?? 0;
  return { url, rest: treeRss(pid), sampler: new RssSampler(pid) };
}

/** A fresh access token before each run, so none expires during a long benchmark. */
async function login(url: string): Promise<string> {
  const response = await postJson(`${url}/api/v1/auth/login`, benchAdmin);
  if (!response.ok) throw new Error(`login: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function specFor(
  route: Route,
  target: Target,
  hello: Hello,
  connections = route.login ? settings.loginConnections : settings.connections,
): Promise<LoadSpec> {
  const base = route.server === 'hello' ? hello.url : target.url;
  const headers: Record<string, string> = {};
  if (route.auth) headers.authorization = `Bearer ${await login(target.url)}`;
  if (route.body !== undefined || route.booking) headers['content-type'] = 'application/json';
  return {
    url: base + route.path.replace('{patient}', target.seed.patientIds[0] ?? ''),
    method: route.method,
    headers,
    ...(route.body === undefined ? {} : { body: route.body }),
    connections,
    warmupSeconds: settings.warmupSeconds,
    seconds: settings.seconds,
  };
}

async function measure(target: Target, hello: Hello): Promise<TargetReport> {
  await sleep(settings.restSeconds * 1000);
  const rssRest = treeRss(target.pid);
  console.error(`${target.kind}: RSS at rest ${mb(rssRest)} MB`);
  const sampler = new RssSampler(target.pid);
  // The server inherits this environment, so it asks for METRICS_TOKEN when that is set here.
  const lagSampler = new SealingLagSampler(target.url, { token: process.env.METRICS_TOKEN });
  const { doctorIds, patientIds } = target.seed;
  if (patientIds.length < doctorIds.length) throw new Error('fewer patients than doctors');
  const booking: BookingPlan = {
    doctorIds,
    patientIds,
    firstMonday: firstMondayAfter(new Date(), afterSeededAppointments),
    firstRequest: 0,
  };
  const results: RouteRuns[] = routes.map((route) => ({
    route,
    connections: route.login ? settings.loginConnections : settings.connections,
    runs: [],
    peakRss: 0,
    lag: [],
  }));
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      for (const result of results) {
        const spec = await specFor(result.route, target, hello);
        // Each run continues after the slots the runs before it booked.
        const plan = result.route.booking ? { booking: { ...booking } } : {};
        const audited = result.route.audited === true;
        const run = await runLoad({ ...spec, ...plan }, () => {
          sampler.takePeak();
          // Sampled over the measured run only, like the latency figures.
          if (audited) lagSampler.start();
        });
        if (audited) result.lag.push(await lagSampler.stop());
        booking.firstRequest += run.generated;
        result.peakRss = Math.max(result.peakRss, sampler.takePeak());
        result.runs.push(run);
        console.error(
          `${target.kind} round ${round}/${settings.rounds} ${result.route.name}: ` +
            `${Math.round(run.rps)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ` +
            `errors ${run.errors}, non-2xx ${run.non2xx}` +
            (audited ? `, ${lagLine(result.lag.at(-1))}` : ''),
        );
      }
    }
    const mixed = await measureMixed(
      settings,
      (route, connections) => specFor(route, target, hello, connections),
      sampler,
      (line) => {
        console.error(`${target.kind} ${line}`);
      },
    );
    const afterLoad = await auditAfterLoad(target.url, await login(target.url));
    return {
      kind: target.kind,
      seedSeconds: target.seed.seconds,
      rssRest,
      rssPeak: sampler.overallPeak(),
      afterLoad,
      routes: results,
      mixed,
    };
  } finally {
    sampler.stop();
    await lagSampler.stop();
  }
}

/** Formatted as the repository's Prettier settings want it (aligned tables), so checks pass. */
async function formatMarkdown(text: string): Promise<string> {
  const path = join(repoRoot, 'bench', 'REPORT.md');
  return format(text, { ...(await resolveConfig(path)), filepath: path });
}

/** The command as typed, with the BENCH_* settings (a password in the URL masked). */
function command(): string {
  const vars = Object.entries(process.env)
    .filter(([key]) => key.startsWith('BENCH_'))
    .map(([key, value]) => `${key}=${(value ?? '').replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}`);
  return [...vars.sort(), 'npm run bench'].join(' ');
}

function notes(hello: Hello): string[] {
  const s = settings;
  return [
    ...(isFullRun(s)
      ? []
      : ['**Reduced settings (a smoke run): not comparable with the figures in issue 11.**']),
    `Data: ${s.patients.toLocaleString('en-US')} patients, ` +
      `${s.appointments.toLocaleString('en-US')} appointments over 20 doctors, seeded in bulk.`,
    `Load: autocannon 8 in a child process per run, ${s.connections} connections ` +
      `(login: ${s.loginConnections}, as it is bound by Argon2id on libuv's 4 threads); ` +
      `${s.rounds} round(s) of ${s.seconds} s per route, each after a ${s.warmupSeconds} s warm-up.`,
    'req/s: median of the rounds (min–max); p50: median of the rounds; p99: worst round; ' +
      'errors (connection errors and timeouts) and non-2xx: summed over the rounds.',
    `Mixed loads: per scenario, each route from its own autocannon child; the children load first ` +
      `and are then started together, with the same ${s.warmupSeconds} s warm-up and ${s.seconds} s ` +
      `measured run, ${s.rounds} round(s), after the single-route runs; the goal is on the first ` +
      `route (the probe), the others are the load beside it. Aggregated like the routes; the ` +
      `server's peak RSS under load includes these runs.`,
    '% of hello: median req/s over the median req/s of the bare Fastify hello measured in the ' +
      "same database's pass.",
    `Server: the built \`dist/cli.js serve\`, NODE_ENV=production, LOG_LEVEL=warn, rate limits off; ` +
      'RSS is summed over its whole process tree (/proc VmRSS), sampled every 200 ms.',
    `Typo search: \`q=${typo}\` (for the seeded surname Lewandowski). Booking: each request books ` +
      'its own free 15-minute slot (bench/booking.ts), so 409s would be a failure.',
    'Audit sealing lag: `medcore_audit_oldest_unsealed_age_seconds` read from GET /metrics by the ' +
      'runner every 200 ms during the measured runs of the routes that write audit rows (not the ' +
      "mixed loads); median, p99 (nearest rank) and max over the rounds' samples.",
    `Hello server RSS at rest ${mb(hello.rest)} MB, peak ${mb(hello.sampler.overallPeak())} MB.`,
  ];
}

const date = new Date().toISOString();
const machine = [
  `nproc: ${availableParallelism()} (${cpus()[0]?.model ?? 'unknown CPU'})`,
  `memory: ${Math.round(totalmem() / 1024 ** 3)} GB; load average at start: ${loadavg()[0]?.toFixed(2)}`,
  `Node.js ${process.version}, Linux ${release()}`,
];
const kinds: DbKind[] =
  settings.databaseUrl === undefined ? ['embedded'] : ['postgres', 'embedded'];

try {
  const hello = await startHello();
  const targets: TargetReport[] = [];
  for (const kind of kinds) {
    const target = await openTarget(kind, settings);
    try {
      targets.push(await measure(target, hello));
    } finally {
      await target.close();
    }
  }
  const report = await formatMarkdown(
    renderReport({ date, machine, command: command(), notes: notes(hello), targets }),
  );
  writeFileSync(join(repoRoot, 'bench', 'REPORT.md'), report);
  console.log(report);
} finally {
  await cleanup();
}
