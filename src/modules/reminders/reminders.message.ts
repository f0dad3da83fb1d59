import type { MailMessage } from '../../infra/mailer.js';
import type { AppointmentStatus } from '../../db/schema/appointments.js';
import type { ReminderKey, ReminderSubject } from './reminders.repository.js';

/** Appointments that still get reminders; checked-in, completed, cancelled and no-show do not. */
export const remindable: readonly AppointmentStatus[] = ['scheduled', 'confirmed'];

/**
 * Why a claimed reminder must not go out (any more), or undefined when it should. Checked just
 * before the send, on the appointment as it is now: a reminder claimed for a start the
 * appointment no longer has (rescheduled), or for one cancelled or opted out since it came due,
 * is dropped. A nearer lead recorded for the same start supersedes a farther one still pending
 * (an SMTP outage must not end in two reminders at once).
 */
export function dropReason(
  key: ReminderKey,
  subject: ReminderSubject | undefined,
  now: Date,
): string | undefined {
  if (subject === undefined) return 'appointment_missing';
  const { appointment } = subject;
  if (!remindable.includes(appointment.status)) return `appointment_${appointment.status}`;
  if (appointment.startsAt.getTime() !== key.startsAt.getTime()) return 'rescheduled';
  if (now.getTime() >= appointment.startsAt.getTime()) return 'started';
  if (subject.patientDeleted) return 'patient_deleted';
  if (subject.optedOut) return 'opted_out';
  if (subject.email === null) return 'no_email';
  if (subject.nearestLead !== null && subject.nearestLead < key.leadMinutes) return 'superseded';
  return undefined;
}

/** The clinic's wall-clock date and time of an instant, e.g. "Tuesday, 8 December 2026 at 14:30". */
export function clinicTime(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
}

/**
 * The reminder email. Minimum necessary: when, with whom and the calendar file; no reason, no
 * notes, no patient name in the subject (mail subjects show on lock screens). The Message-ID is
 * the reminder's key, so a repeated send carries the same id.
 */
export function reminderMessage(
  key: ReminderKey,
  subject: ReminderSubject & { email: string },
  settings: { timeZone: string; ics: string; domain: string },
): MailMessage {
  const when = clinicTime(key.startsAt, settings.timeZone);
  return {
    to: subject.email,
    subject: `Appointment reminder: ${when}`,
    text: [
      'This is a reminder of your appointment:',
      '',
      `  When: ${when} (${settings.timeZone})`,
      `  Duration: ${subject.appointment.durationMinutes} minutes`,
      `  Doctor: ${subject.doctor}`,
      '',
      'The attached calendar file adds it to your calendar.',
      'If you cannot come, please contact the practice to cancel or reschedule.',
      '',
    ].join('\n'),
    attachments: [
      {
        filename: 'appointment.ics',
        content: settings.ics,
        contentType: 'text/calendar; charset=utf-8; method=PUBLISH',
      },
    ],
    messageId: `<reminder.${key.appointmentId}.${key.leadMinutes}.${key.startsAt.getTime()}@${settings.domain}>`,
  };
}
