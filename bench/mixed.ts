/**
 * Mixed loads (issue 11): two goals are about one route while another load runs, so each scenario
 * drives several routes at once, each from its own autocannon child, all started together with
 * the same warm-up and duration (bench/load.ts, runLoadsTogether):
 * - "/health keeps a p99 under 20 ms while a list-and-search load runs" (requirement 2);
 * - "login ... never delays other routes beyond a p99 of 50 ms": /users/me while logins run.
 * The route named `probe` carries the goal; the others are the load it must withstand.
 */
import { runLoadsTogether, type LoadResult, type LoadSpec } from './load.js';
import { routes, typo, type Route } from './routes.js';
import type { RssSampler } from './rss.js';
import type { Settings } from './settings.js';

export interface MixedLoad {
  route: Route;
  connections: number;
  /** The measured route; its p99 is held against the scenario's goal. */
  probe?: true;
  runs: LoadResult[];
}

export interface MixedRuns {
  name: string;
  /** p99 goal of the probe route, ms. */
  maxP99: number;
  loads: MixedLoad[];
  /** Peak RSS of the server's process tree during the measured runs, bytes. */
  peakRss: number;
}

/** A LoadSpec for `route` on the server under test (token, body, warm-up and duration filled in). */
export type SpecFor = (route: Route, connections: number) => Promise<LoadSpec>;

function route(path: string): Route {
  const found = routes.find((r) => r.server === 'medcore' && r.path === path);
  if (found === undefined) throw new Error(`no bench route ${path}`);
  return found;
}

/** The scenarios, with the run's connection settings: the background load shares `connections`. */
export function mixedScenarios(settings: Settings): MixedRuns[] {
  const half = Math.max(1, Math.round(settings.connections / 2));
  const scenario = (name: string, maxP99: number, loads: Omit<MixedLoad, 'runs'>[]) => ({
    name,
    maxP99,
    // BENCH_CONNECTIONS=1 leaves no connection for the search.
    loads: loads.filter((load) => load.connections > 0).map((load) => ({ ...load, runs: [] })),
    peakRss: 0,
  });
  return [
    scenario('/health under list + search', 20, [
      { route: route('/health'), connections: 5, probe: true },
      { route: route('/api/v1/patients?limit=100'), connections: half },
      {
        route: route(`/api/v1/patients?q=${typo}&limit=20`),
        connections: settings.connections - half,
      },
    ]),
    scenario('/users/me under login', 50, [
      { route: route('/api/v1/users/me'), connections: 10, probe: true },
      { route: route('/api/v1/auth/login'), connections: settings.loginConnections },
    ]),
  ];
}

/** Runs every scenario once per round; `log` gets one line per load and run. */
export async function measureMixed(
  settings: Settings,
  specFor: SpecFor,
  sampler: RssSampler,
  log: (line: string) => void,
): Promise<MixedRuns[]> {
  const scenarios = mixedScenarios(settings);
  for (let round = 1; round <= settings.rounds; round++) {
    for (const scenario of scenarios) {
      const specs: LoadSpec[] = [];
      for (const load of scenario.loads) specs.push(await specFor(load.route, load.connections));
      const results = await runLoadsTogether(specs, () => sampler.takePeak());
      scenario.peakRss = Math.max(scenario.peakRss, sampler.takePeak());
      scenario.loads.forEach((load, i) => {
        const run = results[i];
        if (run === undefined) throw new Error(`no result for ${load.route.name}`);
        load.runs.push(run);
        log(
          `round ${round}/${settings.rounds} mixed "${scenario.name}" ${load.route.name} ` +
            `(${load.connections} conns): ${Math.round(run.rps)} req/s, p50 ${run.p50} ms, ` +
            `p99 ${run.p99} ms, errors ${run.errors}, non-2xx ${run.non2xx}`,
        );
      });
    }
  }
  return scenarios;
}
