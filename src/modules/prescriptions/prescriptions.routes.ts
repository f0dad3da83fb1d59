import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, PageQuery, StrictObject } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
import { sendCreated, sendTagged } from '../../plugins/reply.js';
import { IfMatchHeaders } from '../users/users.schemas.js';
import { prescriptionPdf } from './prescriptions.pdf.js';
import {
  CancelPrescriptionBody,
  CreatePrescriptionBody,
  ListPrescriptionsQuery,
  PrescriptionPage,
  UpdatePrescriptionBody,
} from './prescriptions.schemas.js';
import * as prescriptions from './prescriptions.service.js';

const tags = ['prescriptions'];
const PrescriptionRef = Type.Ref('Prescription');
const Problem = Type.Ref('Problem');

export const prescriptionsRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db'>;
}> = async (app, opts) => {
  const { ctx } = opts;

  app.get(
    '/prescriptions',
    {
      config: { access: 'prescriptions.read' },
      schema: {
        tags,
        summary: 'List prescriptions, newest first',
        querystring: ListPrescriptionsQuery,
        response: { 200: PrescriptionPage },
      },
    },
    async (request) => prescriptions.listPrescriptions(ctx, actorOf(request), request.query),
  );

  app.post(
    '/prescriptions',
    {
      config: { access: 'prescriptions.create' },
      schema: {
        tags,
        summary: 'Prescribe (doctors); allergy matches come back as `warnings`',
        body: CreatePrescriptionBody,
        response: { 201: PrescriptionRef, 422: Problem },
      },
    },
    async (request, reply) => {
      const created = await prescriptions.prescribe(ctx, actorOf(request), request.body);
      return sendCreated(reply, '/api/v1/prescriptions', created);
    },
  );

  app.get(
    '/prescriptions/:id',
    {
      config: { access: 'prescriptions.read' },
      schema: {
        tags,
        summary: 'Read a prescription',
        params: IdParams,
        response: { 200: PrescriptionRef, 404: Problem },
      },
    },
    async (request, reply) => {
      const found = await prescriptions.getPrescription(ctx, actorOf(request), request.params.id);
      return sendTagged(reply, found);
    },
  );

  app.patch(
    '/prescriptions/:id',
    {
      config: { access: 'prescriptions.write' },
      schema: {
        tags,
        summary: 'Edit an active prescription (prescriber or admin)',
        params: IdParams,
        headers: IfMatchHeaders,
        body: UpdatePrescriptionBody,
        response: { 200: PrescriptionRef, 404: Problem, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const updated = await prescriptions.updatePrescription(
        ctx,
        actorOf(request),
        request.params.id,
        request.body,
        request.headers['if-match'],
      );
      return sendTagged(reply, updated);
    },
  );

  app.post(
    '/prescriptions/:id/cancel',
    {
      config: { access: 'prescriptions.write' },
      // The reason is optional, and so is the body: no body means "no reason given".
      preValidation: async (request) => {
        // Typed as present (the schema), but absent until validation runs.
        (request as { body: unknown }).body ??= {};
      },
      schema: {
        tags,
        summary: 'Cancel an active prescription (prescriber or admin)',
        params: IdParams,
        body: CancelPrescriptionBody,
        response: { 200: PrescriptionRef, 404: Problem, 409: Problem },
      },
    },
    async (request) =>
      prescriptions.endPrescription(
        ctx,
        actorOf(request),
        request.params.id,
        'cancelled',
        request.body.reason,
      ),
  );

  app.post(
    '/prescriptions/:id/complete',
    {
      config: { access: 'prescriptions.write' },
      schema: {
        tags,
        summary: 'Mark an active prescription completed (prescriber or admin)',
        params: IdParams,
        response: { 200: PrescriptionRef, 404: Problem, 409: Problem },
      },
    },
    async (request) =>
      prescriptions.endPrescription(ctx, actorOf(request), request.params.id, 'completed'),
  );

  app.get(
    '/prescriptions/:id/pdf',
    {
      config: { access: 'prescriptions.read' },
      schema: {
        tags,
        summary: 'Printable prescription (PDF)',
        params: IdParams,
        response: {
          200: { content: { 'application/pdf': { schema: Type.String() } } },
          404: Problem,
        },
      },
    },
    async (request, reply) => {
      const pdf = await prescriptionPdf(ctx, actorOf(request), request.params.id);
      return reply
        .type('application/pdf')
        .header(
          'content-disposition',
          `attachment; filename="prescription-${request.params.id}.pdf"`,
        )
        .send(pdf);
    },
  );

  app.get(
    '/patients/:id/prescriptions',
    {
      config: { access: 'prescriptions.read' },
      schema: {
        tags,
        summary: "A patient's prescriptions",
        params: IdParams,
        querystring: StrictObject({ ...PageQuery }),
        response: { 200: PrescriptionPage, 404: Problem },
      },
    },
    async (request) =>
      prescriptions.listPatientPrescriptions(
        ctx,
        actorOf(request),
        request.params.id,
        request.query,
      ),
  );
};
