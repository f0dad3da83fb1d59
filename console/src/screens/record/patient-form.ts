import { isProblem } from '@medcore/client';
import type { Patient } from '../../lib/patients';
import { fieldErrors } from '../../lib/problem';

/** The record form's values: every text as a string ('' for none), allergies comma-separated. */
export interface PatientForm {
  first_name: string;
  last_name: string;
  date_of_birth: string;
  gender: '' | 'female' | 'male' | 'other' | 'unknown';
  email: string;
  phone: string;
  address: string;
  location: string;
  reminders_opt_out: boolean;
  emergency_contacts: { name: string; relationship: string; phone: string }[];
  allergies: string;
  medical_history: string;
  initial_complaint: string;
  initial_diagnosis: string;
  notes: string;
}

export function patientForm(patient: Patient): PatientForm {
  return {
    first_name: patient.first_name,
    last_name: patient.last_name,
    date_of_birth: patient.date_of_birth ?? '',
    gender: patient.gender ?? '',
    email: patient.email ?? '',
    phone: patient.phone ?? '',
    address: patient.address ?? '',
    location: patient.location ?? '',
    reminders_opt_out: patient.reminders_opt_out,
    emergency_contacts: patient.emergency_contacts.map((contact) => ({ ...contact })),
    allergies: (patient.allergies ?? []).join(', '),
    medical_history: patient.medical_history ?? '',
    initial_complaint: patient.initial_complaint ?? '',
    initial_diagnosis: patient.initial_diagnosis ?? '',
    notes: patient.notes ?? '',
  };
}

const orNull = (value: string): string | null => (value.trim() === '' ? null : value.trim());

/** "penicillin, latex ,," -> ["penicillin", "latex"] */
export function splitAllergies(text: string): string[] {
  return text
    .split(/[,;\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * The PATCH body. Medical fields go only with roles that may change them: the API refuses (403)
 * a write to a field the role may not change, so other roles must not send them at all.
 */
export function patientBody(form: PatientForm, medical: boolean) {
  return {
    first_name: form.first_name.trim(),
    last_name: form.last_name.trim(),
    date_of_birth: orNull(form.date_of_birth),
    gender: form.gender === '' ? null : form.gender,
    email: orNull(form.email),
    phone: orNull(form.phone),
    address: orNull(form.address),
    location: orNull(form.location),
    reminders_opt_out: form.reminders_opt_out,
    // A row left entirely empty is dropped rather than sent as an invalid contact.
    emergency_contacts: form.emergency_contacts
      .map((contact) => ({
        name: contact.name.trim(),
        relationship: contact.relationship.trim(),
        phone: contact.phone.trim(),
      }))
      .filter(
        (contact) => contact.name !== '' || contact.relationship !== '' || contact.phone !== '',
      ),
    ...(medical
      ? {
          allergies: splitAllergies(form.allergies),
          medical_history: orNull(form.medical_history),
          initial_complaint: orNull(form.initial_complaint),
          initial_diagnosis: orNull(form.initial_diagnosis),
          notes: orNull(form.notes),
        }
      : {}),
  };
}

/** The empty form of a patient not registered yet. */
export function emptyPatientForm(): PatientForm {
  return {
    first_name: '',
    last_name: '',
    date_of_birth: '',
    gender: '',
    email: '',
    phone: '',
    address: '',
    location: '',
    reminders_opt_out: false,
    emergency_contacts: [],
    allergies: '',
    medical_history: '',
    initial_complaint: '',
    initial_diagnosis: '',
    notes: '',
  };
}

/**
 * Why POST /patients refused, as the registration form shows it:
 * - `fields`: messages for named fields (400 or 422 validation, and the duplicate-email 409,
 *   which names `email`), shown next to each field;
 * - `duplicate`: a 409 naming no field is the likely-duplicate person (same name and birth
 *   date); `patientId` is the existing record (`duplicate_patient_id`), when the API said it;
 * - `other`: anything else, shown as the problem's words.
 */
export type RegistrationRefusal =
  | { kind: 'fields'; fields: Record<string, string> }
  | { kind: 'duplicate'; patientId: string | undefined }
  | { kind: 'other' };

export function registrationRefusal(status: number, problem: unknown): RegistrationRefusal {
  const fields = fieldErrors(problem);
  if (Object.keys(fields).length > 0) return { kind: 'fields', fields };
  if (status === 409) {
    const id = isProblem(problem) ? problem.duplicate_patient_id : undefined;
    return { kind: 'duplicate', patientId: typeof id === 'string' && id !== '' ? id : undefined };
  }
  return { kind: 'other' };
}

/**
 * What the likely-duplicate check compares (name and birth date, case-insensitively): once the
 * person said "save anyway" for these, the form keeps allowing the duplicate until they change.
 */
export function duplicateKey(
  form: Pick<PatientForm, 'first_name' | 'last_name' | 'date_of_birth'>,
) {
  return [form.first_name, form.last_name, form.date_of_birth]
    .map((part) => part.trim().toLowerCase())
    .join('\n');
}
