import { describe, expect, it } from 'vitest';
import {
  duplicateKey,
  emptyPatientForm,
  patientBody,
  registrationRefusal,
  splitAllergies,
  type PatientForm,
} from './patient-form';

const form: PatientForm = {
  first_name: ' Anna ',
  last_name: 'Müller',
  date_of_birth: '',
  gender: '',
  email: 'anna@example.org',
  phone: '  ',
  address: '',
  location: '',
  reminders_opt_out: false,
  emergency_contacts: [
    { name: ' Jan ', relationship: 'son', phone: '+49 30 1' },
    { name: '', relationship: ' ', phone: '' },
  ],
  allergies: 'penicillin, latex ,,',
  medical_history: 'asthma',
  initial_complaint: '',
  initial_diagnosis: '',
  notes: '',
};

describe('patientBody', () => {
  it('sends empty fields as null and trims', () => {
    const body = patientBody(form, false);
    expect(body.first_name).toBe('Anna');
    expect(body.date_of_birth).toBeNull();
    expect(body.gender).toBeNull();
    expect(body.phone).toBeNull();
  });

  it('sends emergency contacts trimmed, dropping rows left empty', () => {
    expect(patientBody(form, false).emergency_contacts).toEqual([
      { name: 'Jan', relationship: 'son', phone: '+49 30 1' },
    ]);
  });

  it('never sends medical fields for a role that may not change them', () => {
    const body = patientBody(form, false);
    for (const key of ['allergies', 'medical_history', 'notes', 'initial_complaint']) {
      expect(body).not.toHaveProperty(key);
    }
    expect(patientBody(form, true)).toMatchObject({
      allergies: ['penicillin', 'latex'],
      medical_history: 'asthma',
    });
  });
});

describe('splitAllergies', () => {
  it('splits on commas, semicolons and lines, dropping blanks', () => {
    expect(splitAllergies('penicillin; latex\n nuts,')).toEqual(['penicillin', 'latex', 'nuts']);
    expect(splitAllergies('')).toEqual([]);
  });
});

const problem = (status: number, extra: Record<string, unknown> = {}) => ({
  type: 'urn:medcore:problem:conflict',
  title: 'Conflict',
  status,
  detail: 'words',
  code: 'conflict',
  request_id: 'r1',
  ...extra,
});

describe('registrationRefusal', () => {
  it('puts a taken email next to the email field, not in the duplicate-person question', () => {
    const taken = problem(409, {
      errors: [{ field: 'body.email', message: 'already used by another patient' }],
    });
    expect(registrationRefusal(409, taken)).toEqual({
      kind: 'fields',
      fields: { email: 'already used by another patient' },
    });
  });

  it('reads a 409 naming no field as the likely duplicate, with the existing record', () => {
    expect(registrationRefusal(409, problem(409, { duplicate_patient_id: 'p-1' }))).toEqual({
      kind: 'duplicate',
      patientId: 'p-1',
    });
    // An API that does not name the record still gets the question, without the link.
    expect(registrationRefusal(409, problem(409))).toEqual({
      kind: 'duplicate',
      patientId: undefined,
    });
  });

  it('maps validation messages (400 and 422) to their fields', () => {
    const invalid = problem(422, {
      errors: [
        { field: 'body.date_of_birth', message: 'must be a real date' },
        { field: 'body.emergency_contacts.0.phone', message: 'digits only' },
      ],
    });
    expect(registrationRefusal(422, invalid)).toEqual({
      kind: 'fields',
      fields: { date_of_birth: 'must be a real date', 'emergency_contacts.0.phone': 'digits only' },
    });
  });

  it('leaves anything else to the general message', () => {
    expect(registrationRefusal(403, problem(403))).toEqual({ kind: 'other' });
    expect(registrationRefusal(500, undefined)).toEqual({ kind: 'other' });
  });
});

describe('emptyPatientForm', () => {
  it('registers only the names when nothing else is filled in (no medical field for the desk)', () => {
    const body = patientBody(
      { ...emptyPatientForm(), first_name: ' Ada ', last_name: 'Byron' },
      false,
    );
    expect(body).toEqual({
      first_name: 'Ada',
      last_name: 'Byron',
      date_of_birth: null,
      gender: null,
      email: null,
      phone: null,
      address: null,
      location: null,
      reminders_opt_out: false,
      emergency_contacts: [],
    });
  });
});

describe('duplicateKey', () => {
  const person = { first_name: 'Ada', last_name: 'Byron', date_of_birth: '1815-12-10' };
  it('is the same for the same name and birth date, whatever the case and spaces', () => {
    expect(duplicateKey({ ...person, first_name: ' ADA ' })).toBe(duplicateKey(person));
  });
  it('changes with the name or the birth date', () => {
    expect(duplicateKey({ ...person, last_name: 'Lovelace' })).not.toBe(duplicateKey(person));
    expect(duplicateKey({ ...person, date_of_birth: '1815-12-11' })).not.toBe(duplicateKey(person));
  });
});
