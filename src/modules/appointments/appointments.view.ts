import type { AppContext } from '../../context.js';
import type { AppointmentRow } from '../../db/schema/appointments.js';
import { requirePermission } from '../../lib/access.js';
import type { Principal } from '../../lib/permissions.js';
import * as repo from './appointments.repository.js';
import type { AppointmentDto } from './appointments.schemas.js';

/** The wire form of an appointment with its patient's summary. */
export function toAppointmentDto(
  row: AppointmentRow,
  patient: repo.PatientSummaryRow,
): AppointmentDto {
  return {
    id: row.id,
    patient_id: row.patientId,
    patient: {
      id: patient.id,
      first_name: patient.firstName,
      last_name: patient.lastName,
      mrn: patient.mrn,
      date_of_birth: patient.dateOfBirth,
    },
    doctor_id: row.doctorId,
    starts_at: row.startsAt.toISOString(),
    ends_at: row.endsAt.toISOString(),
    duration_minutes: row.durationMinutes,
    status: row.status,
    reason: row.reason,
    notes: row.notes,
    cancel_reason: row.cancelReason,
    created_by: row.createdBy,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The answer of a write: the row it returned and its patient's summary. */
export async function answerOf(
  ctx: Pick<AppContext, 'db'>,
  row: AppointmentRow,
): Promise<AppointmentDto> {
  const patient = await repo.findPatientSummary(ctx.db, row.patientId);
  if (!patient) throw new Error(`appointment ${row.id} has no patient row`);
  return toAppointmentDto(row, patient);
}

/**
 * An appointment as `caller` may see it: the one mapping behind `GET /appointments/{id}` and
 * the event stream, so field-level rules are the same for both. Today every role that may read
 * appointments sees every field of one (API.md); a rule added here applies to both at once.
 */
export function appointmentForCaller(caller: Principal, dto: AppointmentDto): AppointmentDto {
  requirePermission(caller, 'appointments.read');
  return {
    id: dto.id,
    patient_id: dto.patient_id,
    patient: {
      id: dto.patient.id,
      first_name: dto.patient.first_name,
      last_name: dto.patient.last_name,
      mrn: dto.patient.mrn,
      date_of_birth: dto.patient.date_of_birth,
    },
    doctor_id: dto.doctor_id,
    starts_at: dto.starts_at,
    ends_at: dto.ends_at,
    duration_minutes: dto.duration_minutes,
    status: dto.status,
    reason: dto.reason,
    notes: dto.notes,
    cancel_reason: dto.cancel_reason,
    created_by: dto.created_by,
    version: dto.version,
    created_at: dto.created_at,
    updated_at: dto.updated_at,
  };
}
