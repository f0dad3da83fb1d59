/**
 * The routes `npm run bench` drives (issue 11, requirement 5), with the goals as ratios
 * of req/s to the bare Fastify hello measured in the same run.
 */
import { lastNames } from '../src/seed/sample-data.js';
import { benchAdmin } from './server.js';

export type DbKind = 'postgres' | 'embedded';

export interface Goal {
  /** Minimum req/s as a fraction of hello's, per database. */
  minRatio?: Record<DbKind, number>;
  /** Maximum p99 in ms, per database where the issue sets one. */
  maxP99?: Partial<Record<DbKind, number>>;
}

export interface Route {
  name: string;
  /** Which server answers: the bare hello ceiling or MedCore. */
  server: 'hello' | 'medcore';
  method: 'GET' | 'POST';
  /** Path; `{patient}` is replaced by a seeded patient's id. */
  path: string;
  /** Sends the bench admin's bearer token. */
  auth: boolean;
  body?: string;
  /** Each request books its own free slot (bench/booking.ts). */
  booking?: true;
  /** Fewer than the default connections (login). */
  login?: true;
  /**
   * Every request writes an audit row: the runner samples the sealing lag during its measured
   * runs (bench/sealing-sampler.ts).
   */
  audited?: true;
  goal?: Goal;
}

// A surname the generator uses, with one letter changed: the search must tolerate the typo.
const surname = 'Lewandowski';
if (!lastNames.includes(surname)) throw new Error(`${surname} is no longer a sample surname`);
export const typo = 'Lewandowsky';

// "p99 of every read under 100 ms at 50 connections on PostgreSQL".
const read = { postgres: 100 };

export const routes: Route[] = [
  { name: 'hello (bare Fastify)', server: 'hello', method: 'GET', path: '/', auth: false },
  {
    name: 'GET /health',
    server: 'medcore',
    method: 'GET',
    path: '/health',
    auth: false,
    goal: { maxP99: read },
  },
  {
    name: 'POST /auth/login',
    server: 'medcore',
    method: 'POST',
    path: '/api/v1/auth/login',
    audited: true,
    auth: false,
    body: JSON.stringify(benchAdmin),
    login: true,
  },
  {
    name: 'GET /users/me',
    server: 'medcore',
    method: 'GET',
    path: '/api/v1/users/me',
    auth: true,
    goal: { minRatio: { postgres: 0.3, embedded: 0.15 }, maxP99: read },
  },
  {
    name: 'GET /patients/{id} (audited)',
    server: 'medcore',
    method: 'GET',
    path: '/api/v1/patients/{patient}',
    audited: true,
    auth: true,
    goal: { minRatio: { postgres: 0.12, embedded: 0.06 }, maxP99: read },
  },
  {
    name: 'GET /patients?limit=100',
    server: 'medcore',
    method: 'GET',
    path: '/api/v1/patients?limit=100',
    audited: true,
    auth: true,
    goal: { minRatio: { postgres: 0.03, embedded: 0.015 }, maxP99: read },
  },
  {
    name: `GET /patients?q=${typo}&limit=20`,
    server: 'medcore',
    method: 'GET',
    path: `/api/v1/patients?q=${typo}&limit=20`,
    audited: true,
    auth: true,
    goal: { minRatio: { postgres: 0.015, embedded: 0.008 }, maxP99: read },
  },
  {
    name: 'GET /appointments',
    server: 'medcore',
    method: 'GET',
    path: '/api/v1/appointments',
    audited: true,
    auth: true,
    goal: { maxP99: read },
  },
  {
    name: 'POST /appointments (booking)',
    server: 'medcore',
    method: 'POST',
    path: '/api/v1/appointments',
    audited: true,
    auth: true,
    booking: true,
  },
];
