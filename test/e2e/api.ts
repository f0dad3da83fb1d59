import { randomBytes } from 'node:crypto';
import { field, http, type HttpAnswer } from '../http-client.js';
import { baseUrl, clinicTimeZone, setup, type Credentials } from './context.js';

/**
 * Setting the scene through the real service's API (what a test does not want to click through):
 * people of each role, patients, bookings. Every call goes to the running server over HTTP.
 */
export type StaffRole = 'admin' | 'doctor' | 'nurse' | 'receptionist';

export interface Person extends Credentials {
  id: string;
  role: StaffRole;
  fullName: string;
}

export function ok(answer: HttpAnswer, what: string, status = 200): HttpAnswer {
  if (answer.status !== status) {
    throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer;
}

export function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<HttpAnswer> {
  return http(baseUrl(), method, path, { ...options, timeoutMs: 30_000 });
}

/** An access token for someone, through the API's password sign-in. */
export async function tokenFor(who: Credentials): Promise<string> {
  const answer = await call('POST', '/auth/login', {
    body: { email: who.email, password: who.password },
  });
  return field(ok(answer, `login ${who.email}`), 'access_token');
}

/** The admin global-setup.ts made with `medcore create-admin`. */
export function firstAdmin(): Credentials {
  if (!setup.ready) throw new Error(setup.reason);
  return setup.admin;
}

/** A new staff member of a role, made by the admin (POST /users). */
export async function createPerson(
  adminToken: string,
  role: StaffRole,
  fullName: string,
): Promise<Person> {
  const handle = `${role}.${randomBytes(4).toString('hex')}`;
  const person = {
    email: `${handle}@e2e.medcore.test`,
    username: handle,
    password: `e2e ${role} ${randomBytes(9).toString('base64url')}`,
    full_name: fullName,
    role,
  };
  const answer = ok(
    await call('POST', '/users', { token: adminToken, body: person }),
    'create user',
    201,
  );
  return {
    id: field(answer, 'id'),
    email: person.email,
    password: person.password,
    role,
    fullName,
  };
}

export interface PatientInput {
  first_name: string;
  last_name: string;
  date_of_birth?: string;
  email?: string;
  allergies?: string[];
  medical_history?: string;
  notes?: string;
  assigned_doctor_id?: string;
}

export async function createPatient(token: string, input: PatientInput): Promise<string> {
  const answer = ok(
    await call('POST', '/patients?allow_duplicate=true', { token, body: input }),
    'create patient',
    201,
  );
  return field(answer, 'id');
}

export async function book(
  token: string,
  input: { patient_id: string; doctor_id: string; starts_at: string; duration_minutes: number },
): Promise<string> {
  const answer = ok(await call('POST', '/appointments', { token, body: input }), 'book', 201);
  return field(answer, 'id');
}

/** YYYY-MM-DD of a day `offset` days from today in the clinic's time zone. */
export function clinicDay(offset = 0): string {
  const day = new Date(Date.now() + offset * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: clinicTimeZone() }).format(day);
}

/** HH:MM of an instant on the clinic's clock (how the console shows times). */
export function clinicTime(instant: Date): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: clinicTimeZone(),
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(instant);
}

/** The next quarter hour at least `leadMinutes` from now: a start the API accepts today. */
export function nextQuarter(leadMinutes = 10): Date {
  const quarter = 15 * 60_000;
  return new Date(Math.ceil((Date.now() + leadMinutes * 60_000) / quarter) * quarter);
}

/** A PDF with one line of text (pdfkit, as the service itself makes its PDFs). */
export async function samplePdf(text: string): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument();
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => doc.on('end', resolve));
  doc.text(text);
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

/** POST /patients/{id}/documents as a multipart form, as a browser would send it. */
export async function uploadDocument(
  token: string,
  patientId: string,
  file: {
    name: string;
    content: Buffer;
    category: string;
    description: string;
    /** The type the browser would send (the API decides by the content's magic bytes). */
    type?: string;
  },
): Promise<string> {
  const form = new FormData();
  form.set('category', file.category);
  form.set('description', file.description);
  form.set('file', new Blob([file.content], { type: file.type ?? 'application/pdf' }), file.name);
  const res = await fetch(`${baseUrl()}/api/v1/patients/${patientId}/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 201 || body.id === undefined) {
    throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.id;
}
