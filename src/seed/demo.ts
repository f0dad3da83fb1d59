import type { AppContext } from '../context.js';
import type { Principal } from '../lib/permissions.js';
import { createPatient, listPatients } from '../modules/patients/patients.service.js';
import { addNote } from '../modules/patients/visit-notes.service.js';
import { prescribe } from '../modules/prescriptions/prescriptions.service.js';
import { createAccount, findAccountForLogin } from '../modules/users/users.service.js';
import { randomToken } from '../lib/crypto.js';
import {
  allergens,
  birthDate,
  complaints,
  firstNames,
  groups,
  lastNames,
  medications,
  phoneNumber,
  pick,
  prng,
} from './sample-data.js';
import { seedDemoWeek, type WeekRules } from './demo-week.js';
import type { SeededAccount } from './staff.js';

export interface DemoSummary {
  doctors: SeededAccount[];
  patients: number;
  appointments: number;
  prescriptions: number;
}

const DEMO_DOCTORS = ['Dr. Alice Moreau', 'Dr. Bartosz Zieliński', 'Dr. Chiara Bianchi'];

/**
 * A small, realistic practice for trying the API: three more doctors, a few hundred patients
 * with contacts, this week's appointments (demo-week.ts) and some prescriptions. Goes through the services, so
 * every rule (MRNs, overlap constraint, allergy warnings) applies as it would over HTTP.
 */
export async function seedDemoPractice(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  admin: Principal,
  options: {
    rules: WeekRules;
    patients?: number;
    seed?: number;
    /** Told of each doctor account as soon as it exists (see seedStaff). */
    onAccount?: (account: SeededAccount) => void;
  },
): Promise<DemoSummary> {
  const random = prng(options.seed ?? 2026);
  const doctors: SeededAccount[] = [];
  const doctorIds: string[] = [];
  for (const [index, fullName] of DEMO_DOCTORS.entries()) {
    const email = `doctor${index + 1}@demo.medcore.local`;
    const existing = await findAccountForLogin(ctx, email);
    if (existing) {
      doctorIds.push(existing.id);
      continue;
    }
    const password = randomToken(12);
    const row = await createAccount(
      ctx,
      { email, username: `demo_doctor${index + 1}`, password, full_name: fullName },
      'doctor',
    );
    doctorIds.push(row.id);
    const account: SeededAccount = { role: 'doctor', email, password };
    doctors.push(account);
    options.onAccount?.(account);
  }

  // Seeded before (the first demo doctor already has patients): do not add the practice twice.
  const firstDoctor = doctorIds[0];
  const existing = firstDoctor
    ? await listPatients(ctx, admin, { assigned_doctor_id: firstDoctor, limit: 1 })
    : { items: [] };
  if (existing.items.length > 0) return { doctors, patients: 0, appointments: 0, prescriptions: 0 };

  const patientIds: { id: string; doctorId: string }[] = [];
  for (let i = 0; i < (options.patients ?? 300); i++) {
    const firstName = pick(random, firstNames);
    const lastName = pick(random, lastNames);
    const doctorId = pick(random, doctorIds);
    const patient = await createPatient(
      ctx,
      admin,
      {
        first_name: firstName,
        last_name: lastName,
        date_of_birth: birthDate(random),
        gender: pick(random, ['female', 'male', 'other', 'unknown'] as const),
        email: `${firstName}.${lastName}.${i}@patients.example`
          .toLowerCase()
          .replace(/[^a-z0-9.@]/g, ''),
        phone: phoneNumber(random),
        group: pick(random, groups),
        location: pick(random, ['Main clinic', 'North branch', 'Telehealth']),
        emergency_contacts: [
          {
            name: `${pick(random, firstNames)} ${lastName}`,
            relationship: pick(random, ['spouse', 'parent', 'child', 'sibling']),
            phone: phoneNumber(random),
          },
        ],
        initial_complaint: pick(random, complaints),
        allergies: random() < 0.25 ? [pick(random, allergens)] : [],
        medical_history: random() < 0.5 ? 'No significant history.' : 'Hypertension, controlled.',
        assigned_doctor_id: doctorId,
      },
      true,
    );
    patientIds.push({ id: patient.id, doctorId });
    if (random() < 0.3) {
      await addNote(ctx, admin, patient.id, {
        content: `Initial visit: ${pick(random, complaints)}.`,
        visit_type: 'regular',
      });
    }
  }

  const appointments = await seedDemoWeek(ctx, admin, options.rules, {
    doctorIds,
    patients: patientIds,
    random,
  });

  let prescriptions = 0;
  for (const patient of patientIds.slice(0, Math.ceil(patientIds.length / 3))) {
    const [medication, dosage, frequency] = pick(random, medications);
    await prescribe(
      ctx,
      { ...admin, userId: patient.doctorId, role: 'doctor' },
      {
        patient_id: patient.id,
        medication,
        dosage,
        frequency,
        duration_days: 14,
        refills: Math.floor(random() * 3),
      },
    );
    prescriptions++;
  }
  return { doctors, patients: patientIds.length, appointments, prescriptions };
}
