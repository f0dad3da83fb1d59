import { describe, expect, it } from 'vitest';
import {
  byDoctor,
  mergeAppointment,
  orderDoctors,
  transitionsFrom,
  type Appointment,
} from './appointments';

function appointment(id: string, startsAt: string, extra: Partial<Appointment> = {}): Appointment {
  return {
    id,
    doctor_id: 'd1',
    patient_id: 'p1',
    patient: {
      id: 'p1',
      first_name: 'Anna',
      last_name: 'Müller',
      mrn: 'MRN-1',
      date_of_birth: null,
    },
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
    version: 1,
    ...extra,
  };
}

describe('transitionsFrom', () => {
  it('offers exactly the transitions the API allows', () => {
    expect(transitionsFrom('scheduled')).toEqual(['confirm', 'no-show', 'cancel']);
    expect(transitionsFrom('confirmed')).toEqual(['check-in', 'no-show', 'cancel']);
    expect(transitionsFrom('checked_in')).toEqual(['complete', 'no-show']);
    expect(transitionsFrom('completed')).toEqual([]);
    expect(transitionsFrom('cancelled')).toEqual([]);
    expect(transitionsFrom('no_show')).toEqual([]);
  });
});

describe('orderDoctors', () => {
  const doctors = [
    { id: 'a', full_name: 'Dr. Zeller' },
    { id: 'b', full_name: 'Dr. Adler' },
    { id: 'c', full_name: null },
  ];
  it("puts the signed-in doctor's own column first, the rest by name", () => {
    expect(orderDoctors(doctors, 'a').map((d) => d.id)).toEqual(['a', 'c', 'b']);
    expect(orderDoctors(doctors, undefined).map((d) => d.id)).toEqual(['c', 'b', 'a']);
  });
});

describe('byDoctor', () => {
  it('groups per doctor, sorted by start', () => {
    const groups = byDoctor([
      appointment('1', '2026-12-03T10:00:00Z'),
      appointment('2', '2026-12-03T09:00:00Z'),
      appointment('3', '2026-12-03T08:00:00Z', { doctor_id: 'd2' }),
    ]);
    expect(groups.get('d1')?.map((a) => a.id)).toEqual(['2', '1']);
    expect(groups.get('d2')?.map((a) => a.id)).toEqual(['3']);
  });
});

describe('mergeAppointment', () => {
  const list = [appointment('1', '2026-12-03T09:00:00Z'), appointment('2', '2026-12-03T11:00:00Z')];

  it('adds a new booking in order', () => {
    const merged = mergeAppointment(list, appointment('3', '2026-12-03T10:00:00Z'), true);
    expect(merged.map((a) => a.id)).toEqual(['1', '3', '2']);
  });

  it('replaces a changed one and drops one that moved to another day', () => {
    const confirmed = appointment('1', '2026-12-03T09:00:00Z', {
      status: 'confirmed',
      version: 2,
    });
    expect(mergeAppointment(list, confirmed, true)[0]?.status).toBe('confirmed');
    expect(mergeAppointment(list, confirmed, false).map((a) => a.id)).toEqual(['2']);
  });

  it('ignores an event older than what the list holds', () => {
    const newer = [appointment('1', '2026-12-03T09:00:00Z', { status: 'confirmed', version: 3 })];
    const stale = appointment('1', '2026-12-03T09:00:00Z', { version: 2 });
    expect(mergeAppointment(newer, stale, true)[0]?.status).toBe('confirmed');
  });
});
