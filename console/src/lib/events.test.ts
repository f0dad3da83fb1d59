import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it, vi } from 'vitest';
import type { Appointment } from './appointments';

// events.ts reads the session for its stream; these tests only use the cache update.
vi.mock('../api/client', () => ({ session: {} }));
const { applyAppointmentEvent, clinicCalendarKey, dayKey } = await import('./events');

function appointment(id: string, startsAt: string, version = 1): Appointment {
  return {
    id,
    doctor_id: 'd1',
    patient_id: 'p1',
    patient: { id: 'p1', first_name: 'Anna', last_name: 'Müller', mrn: 'M1', date_of_birth: null },
    starts_at: startsAt,
    ends_at: startsAt,
    duration_minutes: 30,
    status: 'scheduled',
    reason: null,
    notes: null,
    cancel_reason: null,
    created_at: startsAt,
    created_by: null,
    updated_at: startsAt,
    version,
  };
}

function clientIn(zone: string): QueryClient {
  const client = new QueryClient();
  client.setQueryData(clinicCalendarKey, { zone, known: true });
  return client;
}

describe('applyAppointmentEvent', () => {
  it('puts a new booking into the cached day it starts on, in the clinic zone', () => {
    const client = clientIn('Europe/Berlin');
    client.setQueryData(dayKey('2026-12-04'), []);
    client.setQueryData(dayKey('2026-12-03'), []);
    // 23:30 UTC on the 3rd is 00:30 on the 4th in Berlin.
    applyAppointmentEvent(client, appointment('a1', '2026-12-03T23:30:00Z'));
    expect(client.getQueryData<Appointment[]>(dayKey('2026-12-04'))).toHaveLength(1);
    expect(client.getQueryData<Appointment[]>(dayKey('2026-12-03'))).toHaveLength(0);
  });

  it('moves a rescheduled appointment from one cached day to the other', () => {
    const client = clientIn('UTC');
    client.setQueryData(dayKey('2026-12-03'), [appointment('a1', '2026-12-03T09:00:00Z')]);
    client.setQueryData(dayKey('2026-12-05'), []);
    applyAppointmentEvent(client, appointment('a1', '2026-12-05T09:00:00Z', 2));
    expect(client.getQueryData<Appointment[]>(dayKey('2026-12-03'))).toEqual([]);
    expect(
      client.getQueryData<Appointment[]>(dayKey('2026-12-05'))?.map((item) => item.id),
    ).toEqual(['a1']);
  });

  it('fetches the day lists again when the clinic zone is not known yet', () => {
    const client = new QueryClient();
    client.setQueryData(dayKey('2026-12-03'), []);
    applyAppointmentEvent(client, appointment('a1', '2026-12-03T09:00:00Z'));
    // Not guessed into a day: left as it was, and marked for a fetch.
    expect(client.getQueryData<Appointment[]>(dayKey('2026-12-03'))).toEqual([]);
    expect(client.getQueryState(dayKey('2026-12-03'))?.isInvalidated).toBe(true);
  });
});
