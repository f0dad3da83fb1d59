import type { Tx } from '../../db/client.js';
import type { AppointmentRow } from '../../db/schema/appointments.js';
import { appendEvent } from '../outbox/outbox.service.js';
import { answerOf } from './appointments.view.js';

/** The changes an appointment event names (`appointment.<change>`). */
export type AppointmentChange =
  | 'booked'
  | 'rescheduled'
  | 'updated'
  | 'confirmed'
  | 'checked_in'
  | 'completed'
  | 'cancelled'
  | 'no_show';

/**
 * Writes the outbox event of a change inside the change's transaction (committed together or
 * not at all). The payload is the appointment as the API shows it, patient summary included,
 * which is what the event stream sends (through `appointmentForCaller`) and what consumers need.
 */
async function raise(tx: Tx, change: AppointmentChange, row: AppointmentRow): Promise<void> {
  await appendEvent(tx, {
    topic: `appointment.${change}`,
    aggregateType: 'appointment',
    aggregateId: row.id,
    payload: await answerOf({ db: tx }, row),
  });
}

/** Writes a change and its event in one transaction. */
export function withEvent<T extends AppointmentRow | undefined>(
  change: AppointmentChange,
  write: (tx: Tx) => Promise<T>,
): (tx: Tx) => Promise<T> {
  return async (tx) => {
    const row = await write(tx);
    if (row !== undefined) await raise(tx, change, row);
    return row;
  };
}
