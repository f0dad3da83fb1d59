import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Role } from '../src/db/schema/users.js';
import { can, type Access } from '../src/lib/permissions.js';
import { bookAppointment } from '../src/modules/appointments/appointments.service.js';
import { createPatient } from '../src/modules/patients/patients.service.js';
import { prescribe } from '../src/modules/prescriptions/prescriptions.service.js';
import { createPrompt } from '../src/modules/prompts/prompts.service.js';
import { createAccount } from '../src/modules/users/users.service.js';
import { upload } from './documents-support.js';
import { createUser, strongPassword, unique, type TestUser } from './helpers.js';
import { workingSlot } from './working-hours.js';

/**
 * What the permission walk (permissions.int.test.ts) needs to build a valid request for each
 * route: the shape of a route's case, and rows created directly through the services.
 */

export interface Sample {
  /** Values for the path parameters; any parameter not given gets a random UUID. */
  params?: Record<string, string>;
  payload?: object;
  query?: string;
  /** Extra request headers (a multipart body's content type). */
  headers?: Record<string, string>;
}

export interface RouteCase {
  access: Access;
  /** The status a permitted caller gets with the sample request. */
  allowedStatus?: number;
  /** Builds a valid request for this caller (a fresh account of the role under test). */
  sample?: (app: FastifyInstance, caller: TestUser) => Promise<Sample> | Sample;
}

export async function newTarget(app: FastifyInstance, role: Role = 'user'): Promise<string> {
  const username = unique('target');
  const row = await createAccount(
    app.ctx,
    { email: `${username}@example.test`, username, password: strongPassword },
    role,
  );
  return row.id;
}

/** A live patient registered directly through the service by a fresh admin; returns its id. */
export async function newPatient(app: FastifyInstance): Promise<string> {
  const registrar = await newTarget(app, 'admin');
  const patient = await createPatient(
    app.ctx,
    { userId: registrar, role: 'admin', sessionId: randomUUID() },
    { first_name: 'Walk', last_name: unique('Patient') },
    false,
  );
  return patient.id;
}

export const adminOf = (userId: string) => ({
  userId,
  role: 'admin' as const,
  sessionId: randomUUID(),
});

/** The caller itself when it is a doctor (doctors write only their own), else a fresh doctor. */
export async function doctorFor(app: FastifyInstance, caller: TestUser): Promise<string> {
  return caller.role === 'doctor' ? caller.id : newTarget(app, 'doctor');
}

let slot = 0;
/** A distinct future start for every booking the walk makes. */
export function nextStart(): string {
  slot += 1;
  return workingSlot(slot, 60, { firstDay: 2 });
}

export async function newAppointment(app: FastifyInstance, caller: TestUser): Promise<string> {
  const doctorId = await doctorFor(app, caller);
  const booked = await bookAppointment(app.ctx, adminOf(await newTarget(app, 'admin')), {
    patient_id: await newPatient(app),
    doctor_id: doctorId,
    starts_at: nextStart(),
  });
  return booked.id;
}

/** A prescription by the caller when it is a doctor (the prescriber may change it), else by a fresh doctor. */
export async function newPrescription(app: FastifyInstance, caller: TestUser): Promise<string> {
  const doctorId = await doctorFor(app, caller);
  const created = await prescribe(
    app.ctx,
    { userId: doctorId, role: 'doctor', sessionId: randomUUID() },
    { patient_id: await newPatient(app), medication: 'Metformin', dosage: '1', frequency: 'daily' },
  );
  return created.id;
}

/** A prompt owned by the caller (only the owner changes one); a random id for roles without prompts. */
export async function ownPrompt(app: FastifyInstance, caller: TestUser): Promise<Sample> {
  if (!can(caller.role, 'prompts.own')) return { params: { id: randomUUID() } };
  const created = await createPrompt(
    app.ctx,
    { userId: caller.id, role: caller.role, sessionId: randomUUID() },
    { content: 'Written during the access walk.' },
  );
  return { params: { id: created.id } };
}

/** A non-clinical document (every reading role may see it), uploaded by a fresh nurse. */
export async function newDocument(app: FastifyInstance): Promise<string> {
  const nurse = await createUser(app, 'nurse');
  const res = await upload(
    app,
    nurse.accessToken,
    await newPatient(app),
    { filename: 'consent.txt', content: Buffer.from('signed consent') },
    { category: 'consent' },
  );
  if (res.statusCode !== 201) throw new Error(`document: ${res.statusCode} ${res.body}`);
  return res.json<{ id: string }>().id;
}
