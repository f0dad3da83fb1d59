import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { prescriptionsRoutes } from './prescriptions.routes.js';
import { PrescriptionSchema } from './prescriptions.schemas.js';

/** Prescriptions (allergy warnings, PDF); the `Prescription` component. */
export const prescriptionsModule: FastifyPluginAsync<{ ctx: Pick<AppContext, 'db'> }> = async (
  app,
  opts,
) => {
  app.addSchema(PrescriptionSchema);
  await app.register(prescriptionsRoutes, { ctx: opts.ctx });
};
