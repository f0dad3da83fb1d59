import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../context.js';
import { appointmentEventsRoutes } from './appointments.events.js';
import { appointmentsRoutes } from './appointments.routes.js';
import { AppointmentSchema } from './appointments.schemas.js';

/**
 * Appointments (status machine, availability, iCalendar, CSV export); the `Appointment`
 * component.
 */
export const appointmentsModule: FastifyPluginAsync<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'outbox'>;
}> = async (app, opts) => {
  app.addSchema(AppointmentSchema);
  await app.register(appointmentsRoutes, { ctx: opts.ctx });
  await app.register(appointmentEventsRoutes, { ctx: opts.ctx });
};
