import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, PageQuery, StrictObject } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
import { resourceRoutes } from '../../plugins/routes.js';
import { prescriptionPdf } from './prescriptions.pdf.js';
import {
  AllergyCheckAnswer,
  AllergyCheckQuery,
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

  const route = resourceRoutes(app, ctx, { tags, resource: PrescriptionRef });

  route.list(
    '/prescriptions',
    {
      access: 'prescriptions.read',
      summary: 'List prescriptions, newest first',
      querystring: ListPrescriptionsQuery,
      page: PrescriptionPage,
    },
    prescriptions.listPrescriptions,
  );

  route.create(
    '/prescriptions',
    {
      access: 'prescriptions.create',
      summary: 'Prescribe (doctors); allergy matches come back as `warnings`',
      body: CreatePrescriptionBody,
      problems: [422],
      idempotent: true,
    },
    prescriptions.prescribe,
  );

  route.read(
    '/prescriptions/:id',
    { access: 'prescriptions.read', summary: 'Read a prescription' },
    prescriptions.getPrescription,
  );

  route.update(
    '/prescriptions/:id',
    {
      access: 'prescriptions.write',
      summary: 'Edit an active prescription (prescriber or admin)',
      body: UpdatePrescriptionBody,
      problems: [409, 412],
    },
    prescriptions.updatePrescription,
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

  route.listOf(
    '/patients/:id/prescriptions',
    {
      access: 'prescriptions.read',
      summary: "A patient's prescriptions",
      querystring: StrictObject({ ...PageQuery }),
      page: PrescriptionPage,
    },
    prescriptions.listPatientPrescriptions,
  );

  // The warnings before saving: what a prescription of `medication` would get, nothing stored.
  // Gated like reading prescriptions (admin, doctor, nurse: the roles that may see allergies).
  route.listOf(
    '/patients/:id/allergy-check',
    {
      access: 'prescriptions.read',
      summary:
        "Check a medication against the patient's allergies without prescribing; the answer's `warnings` are those a prescription would carry",
      querystring: AllergyCheckQuery,
      page: AllergyCheckAnswer,
    },
    prescriptions.checkAllergies,
  );
};
