import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { createPatient } from '../src/modules/patients/patients.service.js';
import { multipart } from './documents-support.js';
import { bearer, login, strongPassword, unique, type TestUser } from './helpers.js';
import {
  adminOf,
  doctorFor,
  newAppointment,
  newDocument,
  newPatient,
  newPrescription,
  newTarget,
  nextStart,
  ownPrompt,
  type RouteCase,
} from './permissions-samples.js';

/**
 * The permission walk's table (permissions.int.test.ts): "METHOD /path" (OpenAPI path syntax) ->
 * declared access, and how to build a request a permitted caller gets through with. Keep in step
 * with the routes.
 */
export const routeTable: Record<string, RouteCase> = {
  'POST /api/v1/auth/register': { access: 'public' },
  'POST /api/v1/auth/login': { access: 'public' },
  'POST /api/v1/auth/refresh': { access: 'public' },
  'POST /api/v1/auth/password/forgot': { access: 'public' },
  'POST /api/v1/auth/password/reset': { access: 'public' },
  'POST /api/v1/auth/logout': { access: 'self.manage', allowedStatus: 204 },
  'POST /api/v1/auth/logout-all': { access: 'self.manage', allowedStatus: 204 },
  'GET /api/v1/auth/sessions': { access: 'self.manage', allowedStatus: 200 },
  'DELETE /api/v1/auth/sessions/{id}': {
    access: 'self.manage',
    allowedStatus: 204,
    // A second session of the same caller, so there is something of theirs to revoke.
    sample: async (app, caller) => {
      await login(app, caller.email, caller.password);
      const res = await app.inject({
        method: 'GET',
        url: '/api/v1/auth/sessions',
        headers: bearer(caller.accessToken),
      });
      const other = res
        .json<{ items: { id: string; current: boolean }[] }>()
        .items.find((s) => !s.current);
      return { params: { id: other?.id ?? randomUUID() } };
    },
  },
  'POST /api/v1/auth/password/change': {
    access: 'self.manage',
    allowedStatus: 204,
    sample: (_app, caller) => ({
      payload: { current_password: caller.password, new_password: 'a brand new passphrase 9' },
    }),
  },
  'POST /api/v1/auth/mfa/verify': { access: 'public' },
  // The staff console's cookie sessions: no bearer token, the cookie and CSRF header instead.
  'POST /api/v1/auth/console/login': { access: 'public' },
  'POST /api/v1/auth/console/mfa': { access: 'public' },
  'POST /api/v1/auth/console/refresh': { access: 'public' },
  'POST /api/v1/auth/console/logout': { access: 'public' },
  'POST /api/v1/auth/mfa/totp/setup': {
    access: 'self.manage',
    allowedStatus: 200,
    sample: (_app, caller) => ({ payload: { password: caller.password } }),
  },
  'POST /api/v1/auth/mfa/totp/enable': {
    access: 'self.manage',
    allowedStatus: 200,
    // A pending secret from setup, and the code an authenticator app would show for it now.
    sample: async (app, caller) => {
      const setup = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/totp/setup',
        headers: bearer(caller.accessToken),
        payload: { password: caller.password },
      });
      const secret = Secret.fromBase32(setup.json<{ secret: string }>().secret);
      return { payload: { code: new TOTP({ secret }).generate() } };
    },
  },
  // MFA is off for a fresh caller: a permitted role gets past the gate to a 409.
  'POST /api/v1/auth/mfa/totp/disable': {
    access: 'self.manage',
    allowedStatus: 409,
    sample: (_app, caller) => ({ payload: { password: caller.password, code: '123456' } }),
  },
  'POST /api/v1/admin/users/{id}/unlock': {
    access: 'users.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newTarget(app) } }),
  },
  'POST /api/v1/admin/users/{id}/mfa/reset': {
    access: 'users.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newTarget(app) } }),
  },
  'GET /api/v1/users/me': { access: 'self.manage', allowedStatus: 200 },
  'PATCH /api/v1/users/me': {
    access: 'self.manage',
    allowedStatus: 200,
    sample: () => ({ payload: { full_name: 'Walk Er' } }),
  },
  'GET /api/v1/users': { access: 'users.manage', allowedStatus: 200, sample: () => ({}) },
  'POST /api/v1/users': {
    access: 'users.manage',
    allowedStatus: 201,
    sample: () => {
      const username = unique('made');
      return {
        payload: {
          email: `${username}@example.test`,
          username,
          password: strongPassword,
          role: 'nurse',
        },
      };
    },
  },
  'GET /api/v1/users/{id}': {
    access: 'doctors.read',
    allowedStatus: 200,
    // A doctor's public profile is what every permitted role may read.
    sample: async (app) => ({ params: { id: await newTarget(app, 'doctor') } }),
  },
  'PATCH /api/v1/users/{id}': {
    access: 'users.manage',
    allowedStatus: 200,
    sample: async (app) => ({
      params: { id: await newTarget(app) },
      payload: { full_name: 'Changed By Walk' },
    }),
  },
  'DELETE /api/v1/users/{id}': {
    access: 'users.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newTarget(app) } }),
  },
  'GET /api/v1/doctors': { access: 'doctors.read', allowedStatus: 200 },
  'GET /api/v1/patients': { access: 'patients.manage', allowedStatus: 200 },
  'POST /api/v1/patients': {
    access: 'patients.manage',
    allowedStatus: 201,
    sample: () => ({ payload: { first_name: 'Walk', last_name: unique('Patient') } }),
  },
  'GET /api/v1/patients/groups': { access: 'patients.manage', allowedStatus: 200 },
  'GET /api/v1/patients/stats': { access: 'patients.manage', allowedStatus: 200 },
  'GET /api/v1/patients/export.csv': { access: 'patients.manage', allowedStatus: 200 },
  'GET /api/v1/patients/{id}/summary.pdf': {
    access: 'patients.manage',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/patients/{id}': {
    access: 'patients.manage',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'PATCH /api/v1/patients/{id}': {
    access: 'patients.manage',
    allowedStatus: 200,
    sample: async (app) => ({
      params: { id: await newPatient(app) },
      payload: { location: 'Changed by walk' },
    }),
  },
  'DELETE /api/v1/patients/{id}': {
    access: 'patients.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'PUT /api/v1/patients/{id}/favorite': {
    access: 'patients.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'DELETE /api/v1/patients/{id}/favorite': {
    access: 'patients.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/patients/{id}/access-log': {
    access: 'patients.access_log.read',
    allowedStatus: 200,
    // Doctors see the log of their own patients: assign the patient to a calling doctor.
    sample: async (app, caller) => {
      const patient = await createPatient(
        app.ctx,
        adminOf(await newTarget(app, 'admin')),
        {
          first_name: 'Walk',
          last_name: unique('Logged'),
          ...(caller.role === 'doctor' ? { assigned_doctor_id: caller.id } : {}),
        },
        false,
      );
      return { params: { id: patient.id } };
    },
  },
  'GET /api/v1/admin/audit': { access: 'audit.read', allowedStatus: 200 },
  'GET /api/v1/admin/audit/verify': { access: 'audit.read', allowedStatus: 200 },
  'GET /api/v1/admin/stats': { access: 'admin.stats', allowedStatus: 200 },
  'GET /api/v1/admin/system': { access: 'admin.stats', allowedStatus: 200 },
  'GET /api/v1/patients/{id}/notes': {
    access: 'visit_notes.manage',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'POST /api/v1/patients/{id}/notes': {
    access: 'visit_notes.manage',
    allowedStatus: 201,
    sample: async (app) => ({
      params: { id: await newPatient(app) },
      payload: { content: 'Seen during the access walk.', visit_type: 'regular' },
    }),
  },
  'GET /api/v1/appointments': { access: 'appointments.read', allowedStatus: 200 },
  'GET /api/v1/appointments/export.csv': { access: 'appointments.read', allowedStatus: 200 },
  // An event stream never ends, and inject cannot stream: a malformed Last-Event-ID gets a
  // permitted caller past authentication and the permission check to the header validation.
  'GET /api/v1/appointments/events': {
    access: 'appointments.read',
    allowedStatus: 400,
    sample: () => ({ headers: { 'last-event-id': 'not-a-number' } }),
  },
  'POST /api/v1/appointments': {
    access: 'appointments.write',
    allowedStatus: 201,
    sample: async (app, caller) => ({
      payload: {
        patient_id: await newPatient(app),
        doctor_id: await doctorFor(app, caller),
        starts_at: nextStart(),
      },
    }),
  },
  'GET /api/v1/appointments/{id}': {
    access: 'appointments.read',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newAppointment(app, caller) } }),
  },
  'GET /api/v1/appointments/{id}.ics': {
    access: 'appointments.read',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newAppointment(app, caller) } }),
  },
  'PATCH /api/v1/appointments/{id}': {
    access: 'appointments.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      params: { id: await newAppointment(app, caller) },
      payload: { reason: 'changed by the walk' },
    }),
  },
  ...Object.fromEntries(
    ['confirm', 'no-show'].map((action) => [
      `POST /api/v1/appointments/{id}/${action}`,
      {
        access: 'appointments.write',
        allowedStatus: 200,
        sample: async (app: FastifyInstance, caller: TestUser) => ({
          params: { id: await newAppointment(app, caller) },
        }),
      } satisfies RouteCase,
    ]),
  ),
  // check-in and complete need an earlier status: a fresh appointment answers 409 (not 403).
  ...Object.fromEntries(
    ['check-in', 'complete'].map((action) => [
      `POST /api/v1/appointments/{id}/${action}`,
      {
        access: 'appointments.write',
        allowedStatus: 409,
        sample: async (app: FastifyInstance, caller: TestUser) => ({
          params: { id: await newAppointment(app, caller) },
        }),
      } satisfies RouteCase,
    ]),
  ),
  'POST /api/v1/appointments/{id}/cancel': {
    access: 'appointments.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      params: { id: await newAppointment(app, caller) },
      payload: { reason: 'walk' },
    }),
  },
  'GET /api/v1/clinic/calendar': { access: 'appointments.read', allowedStatus: 200 },
  'GET /api/v1/doctors/{id}/availability': {
    access: 'appointments.read',
    allowedStatus: 200,
    sample: async (app) => ({
      params: { id: await newTarget(app, 'doctor') },
      query: '?date=2030-01-07',
    }),
  },
  'GET /api/v1/patients/{id}/appointments': {
    access: 'appointments.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/prescriptions': { access: 'prescriptions.read', allowedStatus: 200 },
  'POST /api/v1/prescriptions': {
    access: 'prescriptions.create',
    allowedStatus: 201,
    sample: async (app) => ({
      payload: {
        patient_id: await newPatient(app),
        medication: 'Metformin 500 mg',
        dosage: '1 tablet',
        frequency: 'twice daily',
      },
    }),
  },
  'GET /api/v1/prescriptions/{id}': {
    access: 'prescriptions.read',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newPrescription(app, caller) } }),
  },
  'GET /api/v1/prescriptions/{id}/pdf': {
    access: 'prescriptions.read',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newPrescription(app, caller) } }),
  },
  'PATCH /api/v1/prescriptions/{id}': {
    access: 'prescriptions.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      params: { id: await newPrescription(app, caller) },
      payload: { instructions: 'with food' },
    }),
  },
  'POST /api/v1/prescriptions/{id}/cancel': {
    access: 'prescriptions.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      params: { id: await newPrescription(app, caller) },
      payload: { reason: 'walk' },
    }),
  },
  'POST /api/v1/prescriptions/{id}/complete': {
    access: 'prescriptions.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newPrescription(app, caller) } }),
  },
  'GET /api/v1/patients/{id}/prescriptions': {
    access: 'prescriptions.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/patients/{id}/allergy-check': {
    access: 'prescriptions.read',
    allowedStatus: 200,
    sample: async (app) => ({
      params: { id: await newPatient(app) },
      query: '?medication=Amoxicillin',
    }),
  },
  'POST /api/v1/patients/{id}/documents': {
    access: 'documents.write',
    allowedStatus: 201,
    sample: async (app) => {
      const form = multipart({ category: 'lab_result' }, [
        { filename: 'walk.txt', content: Buffer.from('potassium 4.2') },
      ]);
      return {
        params: { id: await newPatient(app) },
        payload: form.payload,
        headers: form.headers,
      };
    },
  },
  'GET /api/v1/patients/{id}/documents': {
    access: 'documents.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/documents/{id}': {
    access: 'documents.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newDocument(app) } }),
  },
  'GET /api/v1/documents/{id}/content': {
    access: 'documents.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newDocument(app) } }),
  },
  'GET /api/v1/documents/{id}/thumbnail': {
    access: 'documents.read',
    // A text document has no thumbnail: a permitted caller gets 404, the others 403.
    allowedStatus: 404,
    sample: async (app) => ({ params: { id: await newDocument(app) } }),
  },
  'DELETE /api/v1/documents/{id}': {
    access: 'documents.write',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newDocument(app) } }),
  },
  'GET /api/v1/prompts': { access: 'prompts.own', allowedStatus: 200 },
  'POST /api/v1/prompts': {
    access: 'prompts.own',
    allowedStatus: 201,
    sample: () => ({ payload: { content: 'What is the usual adult dose of amoxicillin?' } }),
  },
  'GET /api/v1/prompts/{id}': {
    access: 'prompts.own',
    allowedStatus: 200,
    sample: ownPrompt,
  },
  'PATCH /api/v1/prompts/{id}': {
    access: 'prompts.own',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      ...(await ownPrompt(app, caller)),
      payload: { content: 'Edited during the walk.' },
    }),
  },
  'DELETE /api/v1/prompts/{id}': {
    access: 'prompts.own',
    allowedStatus: 204,
    sample: ownPrompt,
  },
  'GET /api/v1/status': { access: 'status.read', allowedStatus: 200 },
  'POST /api/v1/status': {
    access: 'status.write',
    allowedStatus: 201,
    sample: () => ({ payload: { client_name: 'walk-client' } }),
  },
};
