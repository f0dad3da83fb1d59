/** What the outbox and event-stream tests share: booking helpers and a look into the table. */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { rowsOf } from '../../db/client.js';
import { api, unique, type TestUser } from '../../../test/helpers.js';
import type { AppointmentDto } from '../appointments/appointments.schemas.js';

export interface OutboxRowView {
  seq: number;
  id: number | null;
  topic: string;
  aggregate_id: string;
  payload: Record<string, unknown>;
  dispatched_at: Date | null;
  done_consumers: string[];
  attempts: number;
}

/** The outbox rows of one aggregate, in insert order. */
export async function eventsOf(app: FastifyInstance, aggregateId: string) {
  return rowsOf<OutboxRowView>(
    await app.ctx.db.execute(sql`
      select seq::int, id::int, topic, aggregate_id, payload, dispatched_at, done_consumers,
             attempts
        from outbox_events where aggregate_id = ${aggregateId} order by seq`),
  );
}

export async function newPatient(app: FastifyInstance, staff: TestUser): Promise<string> {
  const res = await api(app)
    .as(staff)
    .post('/patients', { first_name: unique('Pat'), last_name: unique('Last') });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

let slot = 0;
/** A distinct future start for each call (no two bookings of a test run overlap by accident). */
export function nextStart(): string {
  slot += 1;
  const day = 1 + Math.floor(slot / 40);
  const now = new Date();
  const base = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(base + day * 86_400_000 + (slot % 40) * 30 * 60_000).toISOString();
}

export async function bookOne(
  app: FastifyInstance,
  by: TestUser,
  doctor: TestUser,
  patientId: string,
  startsAt = nextStart(),
): Promise<AppointmentDto> {
  const res = await api(app).as(by).post('/appointments', {
    patient_id: patientId,
    doctor_id: doctor.id,
    starts_at: startsAt,
    reason: 'check-up',
    notes: 'bring the latest lab results',
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<AppointmentDto>();
}

/** Polls `check` until it returns true or `ms` pass. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

export { openSse, type SseClient, type SseMessage } from '../../../test/sse-client.js';
