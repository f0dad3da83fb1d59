import type { Tx } from '../../db/client.js';
import type { AppointmentRow } from '../../db/schema/appointments.js';
import { appendEvent } from '../outbox/outbox.service.js';
import type { AppointmentDto } from './appointments.schemas.js';
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

/** A written appointment and the answer the API gives for it (built once, for the event too). */
export interface Written {
  row: AppointmentRow;
  answer: AppointmentDto;
}

/**
 * Writes the outbox event of a change inside the change's transaction (committed together or
 * not at all). The payload is the appointment as the API shows it, patient summary included,
 * which is what the event stream sends (through `appointmentForCaller`) and what consumers need;
 * the request answers with the same object, so it costs no second patient read.
 */
async function raise(tx: Tx, change: AppointmentChange, row: AppointmentRow): Promise<Written> {
  const answer = await answerOf({ db: tx }, row);
  await appendEvent(tx, {
    topic: `appointment.${change}`,
    aggregateType: 'appointment',
    aggregateId: row.id,
    payload: answer,
  });
  return { row, answer };
}

/** Writes a change and its event in one transaction; a write that changed nothing raises none. */
export function withEvent(
  change: AppointmentChange,
  write: (tx: Tx) => Promise<AppointmentRow>,
): (tx: Tx) => Promise<Written>;
export function withEvent(
  change: AppointmentChange,
  write: (tx: Tx) => Promise<AppointmentRow | undefined>,
): (tx: Tx) => Promise<Written | undefined>;
export function withEvent(
  change: AppointmentChange,
  write: (tx: Tx) => Promise<AppointmentRow | undefined>,
): (tx: Tx) => Promise<Written | undefined> {
  return async (tx) => {
    const row = await write(tx);
    return row === undefined ? undefined : raise(tx, change, row);
  };
}
