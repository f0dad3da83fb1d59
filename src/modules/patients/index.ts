import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { patientsRoutes } from './patients.routes.js';
import { PatientSchema } from './patients.schemas.js';
import type { PatientSummaryPdf } from './patients.summary.js';

/**
 * Patients, their visit notes, groups, favourites, search, access log, CSV export and summary
 * PDF; the `Patient` component.
 */
export const patientsModule: FastifyPluginAsync<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>;
  /** The summary PDF's composition (src/modules/patient-summary), given by buildApp. */
  summaryPdf: PatientSummaryPdf;
}> = async (app, opts) => {
  app.addSchema(PatientSchema);
  await app.register(patientsRoutes, { ctx: opts.ctx, summaryPdf: opts.summaryPdf });
};
