import type { Schemas } from '@medcore/client';

export type Appointment = Schemas['Appointment'];
export type AppointmentStatus = Appointment['status'];

/** The statuses the flow board shows as columns, in the order a visit goes through them. */
export const boardStatuses = [
  'scheduled',
  'confirmed',
  'checked_in',
  'completed',
  'no_show',
] as const satisfies readonly AppointmentStatus[];

export type Transition = 'confirm' | 'check-in' | 'complete' | 'no-show' | 'cancel';

/**
 * The transitions the API allows from each status (docs/API.md, "Appointments"): scheduled ->
 * confirmed -> checked_in -> completed; scheduled|confirmed -> cancelled;
 * scheduled|confirmed|checked_in -> no_show. The server decides; this only picks the buttons.
 */
export function transitionsFrom(status: AppointmentStatus): Transition[] {
  switch (status) {
    case 'scheduled':
      return ['confirm', 'no-show', 'cancel'];
    case 'confirmed':
      return ['check-in', 'no-show', 'cancel'];
    case 'checked_in':
      return ['complete', 'no-show'];
    case 'completed':
    case 'cancelled':
    case 'no_show':
      return [];
  }
}

/** Appointments grouped per doctor, each group sorted by start (stable for equal starts). */
export function byDoctor(appointments: readonly Appointment[]): Map<string, Appointment[]> {
  const groups = new Map<string, Appointment[]>();
  for (const appointment of appointments) {
    const group = groups.get(appointment.doctor_id);
    if (group) group.push(appointment);
    else groups.set(appointment.doctor_id, [appointment]);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  }
  return groups;
}

/**
 * The doctors' columns in display order: the signed-in doctor's own first, then by name.
 */
export function orderDoctors<T extends { id: string; full_name: string | null }>(
  doctors: readonly T[],
  ownId: string | undefined,
): T[] {
  return [...doctors].sort((a, b) => {
    if (a.id === ownId) return -1;
    if (b.id === ownId) return 1;
    return (a.full_name ?? '').localeCompare(b.full_name ?? '');
  });
}

/**
 * The list after an event: the changed appointment replaces its old version, joins the list when
 * it is new and on `day`, and leaves it when it moved to another day. Keeps the list sorted.
 */
export function mergeAppointment(
  list: readonly Appointment[],
  changed: Appointment,
  belongs: boolean,
): Appointment[] {
  const others = list.filter((item) => item.id !== changed.id);
  if (!belongs) return others;
  const old = list.find((item) => item.id === changed.id);
  // An older event arriving after a newer answer must not undo it.
  if (old && old.version > changed.version) return [...list];
  return [...others, changed].sort((a, b) => a.starts_at.localeCompare(b.starts_at));
}
