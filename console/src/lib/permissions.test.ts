import { describe, expect, it } from 'vitest';
import type { Role } from '../auth/session';
import { canChangeAppointment, canEndPrescription, canWriteDocuments } from './permissions';

const roles: Role[] = ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'];

describe('canChangeAppointment', () => {
  it('lets only scheduled and confirmed appointments be moved or cancelled', () => {
    const admin = { id: 'a', role: 'admin' as const };
    const allowed = (
      ['scheduled', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show'] as const
    ).filter((status) => canChangeAppointment(admin, { doctor_id: 'd1', status }));
    expect(allowed).toEqual(['scheduled', 'confirmed']);
  });

  it('lets a doctor change only their own appointments, the desk and nurses any', () => {
    const own = { doctor_id: 'd1', status: 'scheduled' as const };
    const other = { doctor_id: 'd2', status: 'scheduled' as const };
    expect(canChangeAppointment({ id: 'd1', role: 'doctor' }, own)).toBe(true);
    expect(canChangeAppointment({ id: 'd1', role: 'doctor' }, other)).toBe(false);
    for (const role of ['admin', 'nurse', 'receptionist'] as const) {
      expect(canChangeAppointment({ id: 'x', role }, other), role).toBe(true);
    }
    for (const role of ['user', 'guest'] as const) {
      expect(canChangeAppointment({ id: 'x', role }, other), role).toBe(false);
    }
  });
});

describe('canEndPrescription', () => {
  const active = { prescriber_id: 'd1', status: 'active' as const };
  it('is for the prescriber or an admin', () => {
    expect(canEndPrescription({ id: 'd1', role: 'doctor' }, active)).toBe(true);
    expect(canEndPrescription({ id: 'd2', role: 'doctor' }, active)).toBe(false);
    expect(canEndPrescription({ id: 'a', role: 'admin' }, active)).toBe(true);
    // A nurse reads prescriptions but may not change them, even one naming her id.
    expect(canEndPrescription({ id: 'd1', role: 'nurse' }, active)).toBe(false);
  });
  it('is only for active prescriptions', () => {
    for (const status of ['cancelled', 'completed'] as const) {
      expect(canEndPrescription({ id: 'd1', role: 'doctor' }, { ...active, status })).toBe(false);
      expect(canEndPrescription({ id: 'a', role: 'admin' }, { ...active, status })).toBe(false);
    }
  });
});

describe('canWriteDocuments', () => {
  it('is for clinical staff, not the front desk', () => {
    expect(roles.filter(canWriteDocuments)).toEqual(['admin', 'doctor', 'nurse']);
  });
});
