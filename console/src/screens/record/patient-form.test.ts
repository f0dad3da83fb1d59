import { describe, expect, it } from 'vitest';
import { patientBody, splitAllergies, type PatientForm } from './patient-form';

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
