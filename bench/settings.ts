/**
 * Settings of `npm run bench`, from the environment. The defaults make the whole run (both
 * databases, 100,000 patients) take about ten minutes on the 2-core development machine:
 * 10 routes x 3 rounds x (2 s warm-up + 5 s measured + ~1 s process start) per database, plus
 * the mixed loads (bench/mixed.ts): 2 scenarios x 3 rounds x the same, about a minute per database.
 */

function int(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return value;
}

function optional(name: string): string | undefined {
  const raw = process.env[name]?.trim();
  return raw === '' ? undefined : raw;
}

export const settings = {
  /** Patients to seed (BENCH_PATIENTS, shrink for a quick smoke run). */
  patients: int('BENCH_PATIENTS', 100_000, 100, 1_000_000),
  /** Appointments to seed, over 20 doctors. */
  appointments: int('BENCH_APPOINTMENTS', 5_000, 20, 1_000_000),
  /** Measured seconds per route and round. */
  seconds: int('BENCH_SECONDS', 5, 1, 600),
  /** Warm-up seconds before each measured run (JIT, connection pools, caches). */
  warmupSeconds: int('BENCH_WARMUP_SECONDS', 2, 0, 600),
  rounds: int('BENCH_ROUNDS', 3, 1, 20),
  connections: int('BENCH_CONNECTIONS', 50, 1, 1_000),
  /**
   * Login is bound by Argon2id (about 20 ms of CPU each, on libuv's 4 threads): 50 connections
   * would only queue, so fewer are used by default; the report says how many.
   */
  loginConnections: int('BENCH_LOGIN_CONNECTIONS', 8, 1, 1_000),
  /** Idle seconds after the server starts before its RSS "at rest" is read. */
  restSeconds: int('BENCH_REST_SECONDS', 5, 0, 600),
  /** A PostgreSQL server to benchmark on as well (a scratch database is created there). */
  databaseUrl: optional('BENCH_DATABASE_URL'),
};

export type Settings = typeof settings;

/** Whether these are the defaults the figures were measured with (data size, load). */
export function isFullRun(s: Settings): boolean {
  return s.patients === 100_000 && s.connections === 50 && s.seconds >= 5 && s.rounds >= 3;
}
