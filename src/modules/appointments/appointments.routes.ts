import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { IdParams, PageQuery, StrictObject } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
import { resourceRoutes } from '../../plugins/routes.js';
import { exportAppointmentsCsv } from './appointments.export.js';
import { appointmentIcs } from './appointments.ics.js';
import {
  AppointmentPage,
  AvailabilityQuery,
  AvailabilitySchema,
  ClinicCalendarSchema,
  BookingQuery,
  CancelBody,
  CreateAppointmentBody,
  ExportAppointmentsQuery,
  ListAppointmentsQuery,
  UpdateAppointmentBody,
} from './appointments.schemas.js';
import * as appointments from './appointments.service.js';
import * as availability from './availability.service.js';
import * as patientAppointments from './patient-appointments.service.js';

const tags = ['appointments'];
const AppointmentRef = Type.Ref('Appointment');
const Problem = Type.Ref('Problem');

export const appointmentsRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>;
}> = async (app, opts) => {
  const { ctx } = opts;

  const route = resourceRoutes(app, ctx, { tags, resource: AppointmentRef });

  route.list(
    '/appointments',
    {
      access: 'appointments.read',
      summary: 'List appointments sorted by start; from/to select overlapping ones',
      querystring: ListAppointmentsQuery,
      page: AppointmentPage,
    },
    appointments.listAppointments,
  );

  route.create(
    '/appointments',
    {
      access: 'appointments.write',
      summary:
        'Book an appointment within working hours (422 outside_working_hours); overlaps for the doctor or patient are refused (409)',
      querystring: BookingQuery,
      body: CreateAppointmentBody,
      problems: [403, 409, 422],
      idempotent: true,
    },
    appointments.bookAppointment,
  );

  // A static segment: find-my-way matches it before the parametric /appointments/:id(.ics).
  app.get(
    '/appointments/export.csv',
    {
      config: { access: 'appointments.read' },
      schema: {
        tags,
        summary: 'Streamed CSV of the appointments matching the list filters',
        querystring: ExportAppointmentsQuery,
        response: { 200: { content: { 'text/csv': { schema: Type.String() } } } },
      },
    },
    async (request, reply) => {
      const stream = await exportAppointmentsCsv(ctx, actorOf(request), request.query);
      return (
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="appointments.csv"')
          .header('cache-control', 'no-store')
          // The schema documents the CSV text; the body itself is streamed, never buffered.
          .send(stream as unknown as string)
      );
    },
  );

  app.get(
    '/appointments/:id.ics',
    {
      config: { access: 'appointments.read' },
      schema: {
        tags,
        summary: 'The appointment as an iCalendar file',
        params: IdParams,
        response: {
          200: { content: { 'text/calendar': { schema: Type.String() } } },
          404: Problem,
        },
      },
    },
    async (request, reply) => {
      const ics = await appointmentIcs(ctx, actorOf(request), request.params.id);
      return reply
        .type('text/calendar; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="appointment-${request.params.id}.ics"`,
        )
        .send(ics);
    },
  );

  route.read(
    '/appointments/:id',
    { access: 'appointments.read', summary: 'Read an appointment' },
    appointments.getAppointment,
  );

  route.update(
    '/appointments/:id',
    {
      access: 'appointments.write',
      summary:
        'Reschedule or edit (scheduled/confirmed only); conflicts and working hours are re-checked',
      querystring: BookingQuery,
      body: UpdateAppointmentBody,
      problems: [403, 409, 412, 422],
    },
    appointments.updateAppointment,
  );

  const actions: [string, appointments.Transition][] = [
    ['confirm', 'confirm'],
    ['check-in', 'check_in'],
    ['complete', 'complete'],
    ['no-show', 'no_show'],
  ];
  for (const [path, transition] of actions) {
    app.post(
      `/appointments/:id/${path}`,
      {
        config: { access: 'appointments.write' },
        schema: {
          tags,
          summary: `Status transition: ${transition} (invalid from the current status: 409)`,
          params: IdParams,
          response: { 200: AppointmentRef, 404: Problem, 409: Problem },
        },
      },
      async (request) =>
        appointments.transitionAppointment(ctx, actorOf(request), request.params.id, transition),
    );
  }

  app.post(
    '/appointments/:id/cancel',
    {
      config: { access: 'appointments.write' },
      schema: {
        tags,
        summary: 'Cancel a scheduled or confirmed appointment, with a reason',
        params: IdParams,
        body: CancelBody,
        response: { 200: AppointmentRef, 404: Problem, 409: Problem },
      },
    },
    async (request) =>
      appointments.transitionAppointment(
        ctx,
        actorOf(request),
        request.params.id,
        'cancel',
        request.body.reason,
      ),
  );

  app.get(
    '/clinic/calendar',
    {
      config: { access: 'appointments.read' },
      schema: {
        tags,
        summary: "The clinic's time zone, working days and hours, and today's date there",
        response: { 200: ClinicCalendarSchema },
      },
    },
    async (request) => availability.clinicCalendar(ctx, actorOf(request)),
  );

  app.get(
    '/doctors/:id/availability',
    {
      config: { access: 'appointments.read' },
      schema: {
        tags,
        summary: "A doctor's free slots on a date, within working hours (clinic time zone)",
        params: IdParams,
        querystring: AvailabilityQuery,
        response: { 200: AvailabilitySchema, 404: Problem },
      },
    },
    async (request) =>
      availability.doctorAvailability(
        ctx,
        actorOf(request),
        request.params.id,
        request.query.date,
        request.query.duration_minutes ?? 30,
      ),
  );

  route.listOf(
    '/patients/:id/appointments',
    {
      access: 'appointments.read',
      summary: "A patient's appointments",
      querystring: StrictObject({ ...PageQuery }),
      page: AppointmentPage,
    },
    patientAppointments.listPatientAppointments,
  );
};
