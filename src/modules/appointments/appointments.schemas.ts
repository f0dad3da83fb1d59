import { Type, type Static } from 'typebox';
import {
  Page,
  PageQuery,
  Str,
  StrictObject,
  Text,
  Timestamp,
  Uuid,
  DateTimeInput,
} from '../../lib/schema.js';

export const StatusSchema = Type.Union([
  Type.Literal('scheduled'),
  Type.Literal('confirmed'),
  Type.Literal('checked_in'),
  Type.Literal('completed'),
  Type.Literal('cancelled'),
  Type.Literal('no_show'),
]);

const Duration = Type.Integer({ minimum: 5, maximum: 480, description: 'minutes' });
export const CreateAppointmentBody = StrictObject({
  patient_id: Uuid,
  doctor_id: Uuid,
  starts_at: DateTimeInput,
  duration_minutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 480, default: 30 })),
  reason: Type.Optional(Type.Union([Str({ maxLength: 500 }), Type.Null()])),
  notes: Type.Optional(Type.Union([Text({ maxLength: 5_000 }), Type.Null()])),
});
export type CreateAppointmentInput = Static<typeof CreateAppointmentBody>;

export const UpdateAppointmentBody = StrictObject({
  doctor_id: Type.Optional(Uuid),
  starts_at: Type.Optional(DateTimeInput),
  duration_minutes: Type.Optional(Duration),
  reason: Type.Optional(Type.Union([Str({ maxLength: 500 }), Type.Null()])),
  notes: Type.Optional(Type.Union([Text({ maxLength: 5_000 }), Type.Null()])),
});
export type UpdateAppointmentInput = Static<typeof UpdateAppointmentBody>;

export const CancelBody = StrictObject({ reason: Str({ minLength: 1, maxLength: 500 }) });

/** The patient beside each appointment, so a day view needs no call per row. */
export const AppointmentPatientSchema = Type.Object({
  id: Uuid,
  first_name: Type.String(),
  last_name: Type.String(),
  mrn: Type.String(),
  date_of_birth: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
});

export const AppointmentSchema = Type.Object(
  {
    id: Uuid,
    patient_id: Uuid,
    patient: AppointmentPatientSchema,
    doctor_id: Uuid,
    starts_at: Timestamp,
    ends_at: Timestamp,
    duration_minutes: Type.Integer(),
    status: StatusSchema,
    reason: Type.Union([Type.String(), Type.Null()]),
    notes: Type.Union([Type.String(), Type.Null()]),
    cancel_reason: Type.Union([Type.String(), Type.Null()]),
    created_by: Type.Union([Uuid, Type.Null()]),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Appointment' },
);
export type AppointmentDto = Static<typeof AppointmentSchema>;

/** A calendar day in CLINIC_TIMEZONE. */
const DateOnly = Type.String({ format: 'date', maxLength: 10 });
/** A bare date (the whole clinic day: `from` its start, `to` its end) or an instant. */
const DateOrDateTime = Type.Union([DateTimeInput, DateOnly]);

/** The list and export filters. */
const appointmentFilters = {
  doctor_id: Type.Optional(
    Type.Union([Uuid, Type.Literal('me')], { description: '`me`: the calling doctor' }),
  ),
  patient_id: Type.Optional(Uuid),
  status: Type.Optional(StatusSchema),
  date: Type.Optional(
    Type.String({
      format: 'date',
      maxLength: 10,
      description: 'Appointments starting on this day in CLINIC_TIMEZONE (not with from/to)',
    }),
  ),
  from: Type.Optional(DateOrDateTime),
  to: Type.Optional(DateOrDateTime),
};

export const ListAppointmentsQuery = StrictObject({ ...appointmentFilters, ...PageQuery });
export type ListAppointmentsQueryInput = Static<typeof ListAppointmentsQuery>;

/** The list filters without paging: an export walks every match. */
export const ExportAppointmentsQuery = StrictObject(appointmentFilters);
export type ExportAppointmentsQueryInput = Static<typeof ExportAppointmentsQuery>;

/** Booking and rescheduling: admins and doctors (own calendar) may book outside working hours. */
export const BookingQuery = StrictObject({
  allow_outside_hours: Type.Optional(Type.Boolean({ default: false })),
});
export type BookingQueryInput = Static<typeof BookingQuery>;

export const AppointmentPage = Page(Type.Ref('Appointment'));

export const AvailabilityQuery = StrictObject({
  date: DateOnly,
  duration_minutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 480, default: 30 })),
});

export const ClinicCalendarSchema = Type.Object({
  time_zone: Type.String({ description: 'CLINIC_TIMEZONE: the zone of "today" and of dates' }),
  working_days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
    description: 'ISO weekdays (1 = Monday) on which bookings are taken (WORKDAYS)',
  }),
  workday_start: Type.String({ description: 'HH:MM in the clinic zone (WORKDAY_START)' }),
  workday_end: Type.String({ description: 'HH:MM in the clinic zone (WORKDAY_END)' }),
  slot_step_minutes: Type.Integer({ description: 'Free slots start on this grid' }),
  today: Type.String({ description: "Today's date in the clinic zone (YYYY-MM-DD)" }),
});

export const AvailabilitySchema = Type.Object({
  doctor_id: Uuid,
  date: Type.String(),
  time_zone: Type.String(),
  duration_minutes: Type.Integer(),
  items: Type.Array(Type.Object({ starts_at: Timestamp, ends_at: Timestamp })),
  next_cursor: Type.Null(),
});
