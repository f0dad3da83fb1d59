/**
 * The bench's audit sealing lag (bench/sealing-sampler.ts, bench/prometheus-gauge.ts and its
 * table in bench/report.ts). Here rather than next to the code: the unit project takes no files
 * from bench/. The sampler runs against a small node:http server standing in for GET /metrics.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGauge, summarize } from '../bench/prometheus-gauge.js';
import { lagTable, lagVerdict, type RouteRuns } from '../bench/report.js';
import { routes } from '../bench/routes.js';
import { SEALING_GAUGE, SealingLagSampler, type LagRun } from '../bench/sealing-sampler.js';

const exposition = [
  '# HELP medcore_audit_unsealed_rows Audit rows not yet sealed into the hash chain',
  '# TYPE medcore_audit_unsealed_rows gauge',
  'medcore_audit_unsealed_rows 42',
  `# HELP ${SEALING_GAUGE}_total a longer name sharing the prefix`,
  `${SEALING_GAUGE}_total 99`,
  `# TYPE ${SEALING_GAUGE} gauge`,
  `${SEALING_GAUGE} 0.347`,
  '',
].join('\n');

describe('parseGauge', () => {
  it('reads the named gauge, not one whose name it prefixes', () => {
    expect(parseGauge(exposition, SEALING_GAUGE)).toBe(0.347);
    expect(parseGauge(exposition, 'medcore_audit_unsealed_rows')).toBe(42);
  });

  it('reads labelled samples, exponents and a trailing timestamp', () => {
    expect(parseGauge('g{state="in_use",x="}\\""} 3 1700000000000', 'g')).toBe(3);
    expect(parseGauge('g 1.5e-3', 'g')).toBe(0.0015);
  });

  it('gives undefined for a missing gauge or a value that is not a finite number', () => {
    expect(parseGauge(exposition, 'medcore_absent')).toBeUndefined();
    expect(parseGauge('g NaN', 'g')).toBeUndefined();
    expect(parseGauge('g +Inf', 'g')).toBeUndefined();
    expect(parseGauge('# TYPE g gauge', 'g')).toBeUndefined();
  });
});

describe('summarize', () => {
  it('gives median, nearest-rank p99 and max', () => {
    const values = Array.from({ length: 200 }, (_, i) => (i + 1) / 100); // 0.01 .. 2.00
    expect(summarize(values)).toEqual({ samples: 200, median: 1.005, p99: 1.98, max: 2 });
    expect(summarize([0.3, 0.1, 0.2])).toEqual({ samples: 3, median: 0.2, p99: 0.3, max: 0.3 });
  });

  it('gives undefined without samples', () => {
    expect(summarize([])).toBeUndefined();
  });
});

describe('SealingLagSampler', () => {
  let server: Server | undefined;
  const close = (open: Server) => new Promise((resolve) => open.close(resolve));
  afterEach(async () => {
    if (server?.listening) await close(server);
    server = undefined;
  });

  type Answer = [status: number, body: string];
  async function serve(
    answer: (auth: string | undefined) => Answer | Promise<Answer>,
  ): Promise<string> {
    const created = createServer((request, response) => {
      void Promise.resolve(answer(request.headers.authorization)).then(([status, body]) => {
        response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
      });
    });
    server = created;
    await new Promise<void>((resolve) => created.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(created.address() as AddressInfo).port}`;
  }

  it('samples one scrape at a time until stopped, sending the metrics token', async () => {
    let answered = 0;
    let open = 0;
    let mostOpen = 0;
    let thirdAnswered = () => {};
    const third = new Promise<void>((resolve) => (thirdAnswered = resolve));
    const token = 'metrics-token-0123456789';
    const url = await serve(async (auth) => {
      if (auth !== `Bearer ${token}`) return [401, 'no'];
      open += 1;
      mostOpen = Math.max(mostOpen, open);
      // Slower than the interval: the ticks in between must be skipped, not stacked.
      await new Promise((resolve) => setTimeout(resolve, 40));
      open -= 1;
      answered += 1;
      if (answered === 3) thirdAnswered();
      return [200, `${SEALING_GAUGE} ${String(answered / 10)}\n`];
    });
    const sampler = new SealingLagSampler(url, { intervalMs: 10, token });
    sampler.start();
    await third;
    const run = await sampler.stop();
    expect(run.failures).toBe(0);
    expect(run.values.slice(0, 3)).toEqual([0.1, 0.2, 0.3]);
    expect(mostOpen).toBe(1);
    // Stopped: no more scrapes.
    const scrapes = answered;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(scrapes);
  });

  /** Samples `url` every 20 ms for 100 ms. */
  async function sampleFor(url: string) {
    const sampler = new SealingLagSampler(url, { intervalMs: 20 });
    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return sampler.stop();
  }

  it('counts refused scrapes as failures instead of throwing', async () => {
    const run = await sampleFor(await serve(() => [401, 'no']));
    expect(run.values).toEqual([]);
    expect(run.failures).toBeGreaterThan(0);
    expect(run.lastFailure).toBe('/metrics answered 401');
  });

  it('counts an unreachable server as failures instead of throwing', async () => {
    const url = await serve(() => [200, '']);
    if (server !== undefined) await close(server);
    const run = await sampleFor(url);
    expect(run.values).toEqual([]);
    expect(run.failures).toBeGreaterThan(0);
    expect(run.lastFailure).toMatch(/ECONNREFUSED/);
  });
});

describe('the sealing lag in the report', () => {
  const route = (path: string) => {
    const found = routes.find((r) => r.path === path);
    if (found === undefined) throw new Error(path);
    return found;
  };
  const runs = (path: string, lag: LagRun[]): RouteRuns => ({
    route: route(path),
    connections: 50,
    runs: [],
    peakRss: 0,
    lag,
  });

  it('pools the rounds per audited route, holds the max against 1 s, and says "not measured"', () => {
    const target = {
      routes: [
        runs('/health', []),
        runs('/api/v1/patients/{patient}', [
          { values: [0.1, 0.2], failures: 0 },
          { values: [0.3], failures: 1, lastFailure: 'x' },
        ]),
        runs('/api/v1/patients?limit=100', [{ values: [0.2, 1.4], failures: 0 }]),
        runs('/api/v1/appointments', [
          { values: [], failures: 15, lastFailure: 'fetch failed (ECONNREFUSED)' },
        ]),
      ],
    };
    expect(lagTable(target).slice(2)).toEqual([
      '| GET /patients/{id} (audited) | 3 (1 failed) | 0.20 | 0.30 | 0.30 | < 1 s ✓ |',
      '| GET /patients?limit=100 | 2 | 0.80 | 1.40 | 1.40 | < 1 s ✗ |',
      '| GET /appointments | 0 (15 failed) | not measured (fetch failed (ECONNREFUSED)) | | | – |',
    ]);
    expect(lagVerdict(target)).toBe(
      'Audit sealing lag under load: max 1.40 s (goal < 1 s) ✗; 1 route(s) not measured',
    );
    expect(lagVerdict({ routes: [runs('/api/v1/appointments', [])] })).toBe(
      'Audit sealing lag under load: not measured (goal < 1 s)',
    );
  });
});
