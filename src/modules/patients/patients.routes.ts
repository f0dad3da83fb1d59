import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, PageQuery, StrictObject } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
import { IdempotencyHeaders } from '../../plugins/idempotency.js';
import { sendCreated } from '../../plugins/reply.js';
import { resourceRoutes } from '../../plugins/routes.js';
import { AccessLogPage } from '../audit/audit.schemas.js';
import { exportPatientsCsv } from './patients.export.js';
import type { PatientSummaryPdf } from './patients.summary.js';
import {
  CreateNoteBody,
  CreatePatientBody,
  CreatePatientQuery,
  GroupPage,
  ListPatientsQuery,
  NotePage,
  NoteSchema,
  PatientPage,
  StatsSchema,
  UpdatePatientBody,
} from './patients.schemas.js';
import * as accessLog from './access-log.service.js';
import * as patients from './patients.service.js';
import * as visitNotes from './visit-notes.service.js';

const tags = ['patients'];
const PatientRef = Type.Ref('Patient');
const Problem = Type.Ref('Problem');

export const patientsRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>;
  summaryPdf: PatientSummaryPdf;
}> = async (app, opts) => {
  const { ctx, summaryPdf } = opts;

  const route = resourceRoutes(app, ctx, { tags, resource: PatientRef });

  route.list(
    '/patients',
    {
      access: 'patients.manage',
      summary: 'Search and list patients (typo-tolerant `q`, filters, keyset pagination)',
      querystring: ListPatientsQuery,
      page: PatientPage,
    },
    patients.listPatients,
  );

  app.post(
    '/patients',
    {
      config: { access: 'patients.manage', idempotency: 'json' },
      schema: {
        tags,
        summary: 'Register a patient (MRN generated); likely duplicates need ?allow_duplicate=true',
        querystring: CreatePatientQuery,
        headers: IdempotencyHeaders,
        body: CreatePatientBody,
        response: { 201: PatientRef, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const patient = await patients.createPatient(
        ctx,
        actorOf(request),
        request.body,
        request.query.allow_duplicate ?? false,
      );
      return sendCreated(reply, '/api/v1/patients', patient);
    },
  );

  app.get(
    '/patients/groups',
    {
      config: { access: 'patients.manage' },
      schema: { tags, summary: 'Patient groups in use, with counts', response: { 200: GroupPage } },
    },
    async (request) => patients.listGroups(ctx, actorOf(request)),
  );

  app.get(
    '/patients/stats',
    {
      config: { access: 'patients.manage' },
      schema: {
        tags,
        summary: 'Totals for the caller: patients, favourites, per group',
        response: { 200: StatsSchema },
      },
    },
    async (request) => patients.patientStats(ctx, actorOf(request)),
  );

  app.get(
    '/patients/export.csv',
    {
      config: { access: 'patients.manage' },
      schema: {
        tags,
        summary: 'Streamed CSV of every patient, with the fields your role may see',
        response: { 200: { content: { 'text/csv': { schema: Type.String() } } } },
      },
    },
    async (request, reply) => {
      const stream = await exportPatientsCsv(ctx, actorOf(request));
      return (
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="patients.csv"')
          .header('cache-control', 'no-store')
          // The schema documents the CSV text; the body itself is streamed, never buffered.
          .send(stream as unknown as string)
      );
    },
  );

  route.read(
    '/patients/:id',
    { access: 'patients.manage', summary: 'Read a patient' },
    patients.getPatient,
  );

  app.get(
    '/patients/:id/summary.pdf',
    {
      config: { access: 'patients.manage' },
      schema: {
        tags,
        summary:
          'Printable summary (PDF): contacts, appointments; medical fields and prescriptions by role',
        params: IdParams,
        response: {
          200: { content: { 'application/pdf': { schema: Type.String() } } },
          404: Problem,
        },
      },
    },
    async (request, reply) => {
      const { mrn, pdf } = await summaryPdf(ctx, actorOf(request), request.params.id);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="patient-${mrn}-summary.pdf"`)
        .header('cache-control', 'no-store')
        .send(pdf);
    },
  );

  route.update(
    '/patients/:id',
    {
      access: 'patients.manage',
      summary: 'Update a patient (If-Match honoured; medical fields need a clinical role)',
      body: UpdatePatientBody,
      problems: [409, 412, 422],
    },
    patients.updatePatient,
  );

  route.remove(
    '/patients/:id',
    {
      access: 'patients.manage',
      summary: 'Soft-delete a patient (the record is kept for the audit trail)',
      problems: [412],
    },
    patients.deletePatient,
  );

  for (const method of ['PUT', 'DELETE'] as const) {
    app.route({
      method,
      url: '/patients/:id/favorite',
      config: { access: 'patients.manage' },
      schema: {
        tags,
        summary:
          method === 'PUT' ? 'Mark as one of your favourites' : 'Remove from your favourites',
        params: IdParams,
        response: { 204: Type.Null(), 404: Problem },
      },
      handler: async (request, reply) => {
        await patients.setFavorite(ctx, actorOf(request), request.params.id, method === 'PUT');
        return reply.status(204).send(null);
      },
    });
  }

  route.listOf(
    '/patients/:id/notes',
    {
      access: 'visit_notes.manage',
      summary: 'Visit notes, newest first',
      querystring: StrictObject({ ...PageQuery }),
      page: NotePage,
    },
    visitNotes.listNotes,
  );

  app.post(
    '/patients/:id/notes',
    {
      config: { access: 'visit_notes.manage' },
      schema: {
        tags,
        summary: 'Write a visit note',
        params: IdParams,
        body: CreateNoteBody,
        response: { 201: NoteSchema, 404: Problem },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await visitNotes.addNote(ctx, actorOf(request), request.params.id, request.body)),
  );

  route.listOf(
    '/patients/:id/access-log',
    {
      access: 'patients.access_log.read',
      summary: "Who viewed or changed this record (admin or the patient's assigned doctor)",
      querystring: StrictObject({ ...PageQuery }),
      page: AccessLogPage,
      problems: [403],
    },
    accessLog.accessLog,
  );
};
