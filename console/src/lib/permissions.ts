import type { Role } from '../auth/session';
import type { Appointment } from './appointments';

/**
 * Which buttons a person gets on the record, from the server's rules (docs/API.md permission
 * table and src/lib/permissions.ts). The server still decides; these only hide buttons that
 * could only earn a 403 or a 409.
 */

export interface Actor {
  id: string;
  role: Role;
}

/** Only scheduled and confirmed appointments may be moved or cancelled (else 409). */
const changeableStatuses: readonly Appointment['status'][] = ['scheduled', 'confirmed'];

/**
 * Reschedule or cancel: admin, nurse and receptionist any appointment; a doctor only their own
 * (others are read-only for them); only while scheduled or confirmed.
 */
export function canChangeAppointment(
  actor: Actor,
  appointment: Pick<Appointment, 'doctor_id' | 'status'>,
): boolean {
  if (!changeableStatuses.includes(appointment.status)) return false;
  switch (actor.role) {
    case 'admin':
    case 'nurse':
    case 'receptionist':
      return true;
    case 'doctor':
      return appointment.doctor_id === actor.id;
    case 'user':
    case 'guest':
      return false;
  }
}

/** Complete or cancel a prescription: the prescriber or an admin, while it is active. */
export function canEndPrescription(
  actor: Actor,
  prescription: { prescriber_id: string; status: 'active' | 'cancelled' | 'completed' },
): boolean {
  if (prescription.status !== 'active') return false;
  return (
    actor.role === 'admin' || (actor.role === 'doctor' && prescription.prescriber_id === actor.id)
  );
}

/** Upload and delete documents (documents.write): clinical staff, not the front desk. */
export function canWriteDocuments(role: Role): boolean {
  return role === 'admin' || role === 'doctor' || role === 'nurse';
}
