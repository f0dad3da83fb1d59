import type { VisitNoteRow } from '../../db/schema/patients.js';
import type { PatientListView } from './patients.columns.js';
import type { PatientDto } from './patients.schemas.js';

/**
 * The wire form of a patient. Medical fields are left out entirely (absent, not null) for roles
 * that may not see them; the response schema then has nothing to serialize.
 */
export function toPatientDto(
  row: PatientListView,
  showMedical: boolean,
  isFavorite: boolean,
): PatientDto {
  const dto: PatientDto = {
    id: row.id,
    mrn: row.mrn,
    first_name: row.firstName,
    last_name: row.lastName,
    date_of_birth: row.dateOfBirth,
    gender: row.gender,
    email: row.email,
    phone: row.phone,
    address: row.address,
    location: row.location,
    group: row.group,
    emergency_contacts: row.emergencyContacts,
    initial_complaint: row.initialComplaint,
    initial_diagnosis: row.initialDiagnosis,
    assigned_doctor_id: row.assignedDoctorId,
    reminders_opt_out: row.remindersOptOut,
    is_favorite: isFavorite,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
  if (showMedical) {
    dto.medical_history = row.medicalHistory;
    dto.allergies = row.allergies;
    dto.notes = row.notes;
  }
  return dto;
}

export function toNoteDto(row: VisitNoteRow) {
  return {
    id: row.id,
    patient_id: row.patientId,
    content: row.content,
    visit_type: row.visitType,
    appointment_id: row.appointmentId,
    author_id: row.authorId,
    created_at: row.createdAt.toISOString(),
  };
}
