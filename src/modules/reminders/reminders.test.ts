import { describe, expect, it } from 'vitest';
import type { AppointmentRow } from '../../db/schema/appointments.js';
import { clinicTime, dropReason, reminderMessage } from './reminders.message.js';
import type { ReminderSubject } from './reminders.repository.js';
import { failureCode, MAX_ATTEMPTS, retryDelayMs } from './reminders.service.js';

const startsAt = new Date('2026-12-08T13:30:00Z');
const key = { appointmentId: '01a2b3c4-0000-7000-8000-000000000001', leadMinutes: 120, startsAt };
const appointment = {
  id: key.appointmentId,
  status: 'scheduled',
  startsAt,
  durationMinutes: 30,
} as AppointmentRow;
const subject: ReminderSubject = {
  appointment,
  email: 'ann@example.test',
  mrn: 'MRN00100001',
  optedOut: false,
  patientDeleted: false,
  doctor: 'Dr Who',
  nearestLead: 120,
};
const before = new Date(startsAt.getTime() - 60 * 60_000);

describe('retryDelayMs', () => {
  it('doubles from one minute and stays at 30 minutes', () => {
    const delays = Array.from({ length: MAX_ATTEMPTS }, (_, i) => retryDelayMs(i + 1) / 60_000);
    expect(delays).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
  });
});

describe('dropReason', () => {
  it('lets a reminder of a live appointment through', () => {
    expect(dropReason(key, subject, before)).toBeUndefined();
    const confirmed = { ...appointment, status: 'confirmed' } as AppointmentRow;
    expect(dropReason(key, { ...subject, appointment: confirmed }, before)).toBeUndefined();
  });

  it.each([
    ['appointment_missing', undefined, before],
    [
      'appointment_cancelled',
      { ...subject, appointment: { ...appointment, status: 'cancelled' } as AppointmentRow },
      before,
    ],
    [
      'appointment_checked_in',
      { ...subject, appointment: { ...appointment, status: 'checked_in' } as AppointmentRow },
      before,
    ],
    [
      'rescheduled',
      {
        ...subject,
        appointment: { ...appointment, startsAt: new Date(startsAt.getTime() + 60_000) },
      },
      before,
    ],
    ['started', subject, startsAt],
    ['patient_deleted', { ...subject, patientDeleted: true }, before],
    ['opted_out', { ...subject, optedOut: true }, before],
    ['no_email', { ...subject, email: null }, before],
    ['superseded', { ...subject, nearestLead: 60 }, before],
  ] as const)('drops it as %s', (reason, given, now) => {
    expect(dropReason(key, given, now)).toBe(reason);
  });
});

describe('reminderMessage', () => {
  it('says when in the clinic time zone, attaches the .ics and names the reminder in its id', () => {
    const message = reminderMessage(
      key,
      { ...subject, email: 'ann@example.test' },
      { timeZone: 'Europe/Warsaw', ics: 'BEGIN:VCALENDAR', domain: 'medcore.test' },
    );
    expect(message.to).toBe('ann@example.test');
    expect(message.subject).toBe('Appointment reminder: Tuesday, 8 December 2026 at 14:30');
    expect(message.text).toContain('Dr Who');
    expect(message.attachments).toEqual([
      {
        filename: 'appointment.ics',
        content: 'BEGIN:VCALENDAR',
        contentType: 'text/calendar; charset=utf-8; method=PUBLISH',
      },
    ]);
    expect(message.messageId).toBe(
      `<reminder.${key.appointmentId}.120.${startsAt.getTime()}@medcore.test>`,
    );
  });

  it('formats the clinic time', () => {
    expect(clinicTime(startsAt, 'UTC')).toBe('Tuesday, 8 December 2026 at 13:30');
  });
});

describe('failureCode', () => {
  it('keeps the code and SMTP reply code, never the message', () => {
    const error = Object.assign(new Error('550 <ann@example.test> unknown'), {
      code: 'EENVELOPE',
      responseCode: 550,
    });
    expect(failureCode(error)).toBe('EENVELOPE 550');
    expect(failureCode(Object.assign(new Error('x'), { code: 'ECONNECTION' }))).toBe('ECONNECTION');
    expect(failureCode(new Error('ann@example.test'))).toBe('ERROR');
    expect(failureCode(undefined)).toBe('ERROR');
    expect(failureCode({ code: 'lower <ann@example.test>' })).toBe('ERROR');
  });
});
