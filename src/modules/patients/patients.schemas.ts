import { Type, type Static } from 'typebox';
import {
  Email,
  Page,
  PageQuery,
  Str,
  StrictObject,
  Text,
  Timestamp,
  Uuid,
  Nullable,
} from '../../lib/schema.js';

const Name = Str({ minLength: 1, nonBlank: true, maxLength: 100 });
const Phone = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: '^[+0-9 ()./-]+$',
  description: 'Digits, spaces and + ( ) . / -',
});
const DateOnly = Type.String({ format: 'date', maxLength: 10, description: 'YYYY-MM-DD' });
const Group = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: '^[a-z0-9][a-z0-9_-]*$',
  description: 'lower-case slug, e.g. general, cardiology, diabetes-programme',
});
const GenderSchema = Type.Union([
  Type.Literal('female'),
  Type.Literal('male'),
  Type.Literal('other'),
  Type.Literal('unknown'),
]);
export const EmergencyContactSchema = StrictObject({
  name: Str({ minLength: 1, maxLength: 200 }),
  relationship: Str({ minLength: 1, maxLength: 100 }),
  phone: Phone,
});

const Allergies = Type.Array(Str({ minLength: 1, maxLength: 100 }), {
  maxItems: 50,
  description: 'Substance names, e.g. ["penicillin", "latex"]',
});

const RemindersOptOut = Type.Boolean({
  description: 'true: no appointment reminder emails are sent to this patient (default false)',
});

const patientFields = {
  date_of_birth: DateOnly,
  gender: GenderSchema,
  email: Email,
  phone: Phone,
  address: Str({ maxLength: 500 }),
  location: Str({ maxLength: 200 }),
  initial_complaint: Text({ maxLength: 2_000 }),
  initial_diagnosis: Text({ maxLength: 2_000 }),
  medical_history: Text({ maxLength: 20_000 }),
  notes: Text({ maxLength: 20_000 }),
  assigned_doctor_id: Uuid,
};

export const CreatePatientBody = StrictObject({
  first_name: Name,
  last_name: Name,
  date_of_birth: Type.Optional(Nullable(patientFields.date_of_birth)),
  gender: Type.Optional(Nullable(GenderSchema)),
  email: Type.Optional(Nullable(Email)),
  phone: Type.Optional(Nullable(Phone)),
  address: Type.Optional(Nullable(patientFields.address)),
  location: Type.Optional(Nullable(patientFields.location)),
  group: Type.Optional(Group),
  emergency_contacts: Type.Optional(Type.Array(EmergencyContactSchema, { maxItems: 10 })),
  initial_complaint: Type.Optional(Nullable(patientFields.initial_complaint)),
  initial_diagnosis: Type.Optional(Nullable(patientFields.initial_diagnosis)),
  medical_history: Type.Optional(Nullable(patientFields.medical_history)),
  allergies: Type.Optional(Allergies),
  notes: Type.Optional(Nullable(patientFields.notes)),
  assigned_doctor_id: Type.Optional(Nullable(Uuid)),
  reminders_opt_out: Type.Optional(RemindersOptOut),
});
export type CreatePatientInput = Static<typeof CreatePatientBody>;

export const UpdatePatientBody = StrictObject({
  ...CreatePatientBody.properties,
  first_name: Type.Optional(Name),
  last_name: Type.Optional(Name),
});
export type UpdatePatientInput = Static<typeof UpdatePatientBody>;

export const CreatePatientQuery = StrictObject({
  allow_duplicate: Type.Optional(Type.Boolean({ default: false })),
});

export const PatientSchema = Type.Object(
  {
    id: Uuid,
    mrn: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    date_of_birth: Type.Union([Type.String(), Type.Null()]),
    gender: Type.Union([GenderSchema, Type.Null()]),
    email: Type.Union([Type.String(), Type.Null()]),
    phone: Type.Union([Type.String(), Type.Null()]),
    address: Type.Union([Type.String(), Type.Null()]),
    location: Type.Union([Type.String(), Type.Null()]),
    group: Type.String(),
    emergency_contacts: Type.Array(
      Type.Object({ name: Type.String(), relationship: Type.String(), phone: Type.String() }),
    ),
    initial_complaint: Type.Union([Type.String(), Type.Null()]),
    initial_diagnosis: Type.Union([Type.String(), Type.Null()]),
    medical_history: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    allergies: Type.Optional(Type.Array(Type.String())),
    notes: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    assigned_doctor_id: Type.Union([Uuid, Type.Null()]),
    reminders_opt_out: Type.Boolean(),
    is_favorite: Type.Boolean(),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    $id: 'Patient',
    description: 'medical_history, allergies and notes are absent for roles that may not see them',
  },
);
export type PatientDto = Static<typeof PatientSchema>;

export const ListPatientsQuery = StrictObject({
  q: Type.Optional(Str({ minLength: 1, maxLength: 100 })),
  assigned_doctor_id: Type.Optional(Uuid),
  date_of_birth: Type.Optional(DateOnly),
  group: Type.Optional(Group),
  favorites_only: Type.Optional(Type.Boolean()),
  sort: Type.Optional(
    Type.Union([Type.Literal('name'), Type.Literal('created_at'), Type.Literal('-created_at')], {
      description:
        'name (default without q), created_at, -created_at; with q: best match first, equal matches by name, then id',
    }),
  ),
  ...PageQuery,
});
export type ListPatientsQueryInput = Static<typeof ListPatientsQuery>;

export const PatientPage = Page(Type.Ref('Patient'));

export const VisitTypeSchema = Type.Union([
  Type.Literal('regular'),
  Type.Literal('follow_up'),
  Type.Literal('emergency'),
  Type.Literal('consultation'),
  Type.Literal('phone'),
  Type.Literal('video'),
  Type.Literal('home_visit'),
]);

export const CreateNoteBody = StrictObject({
  content: Text({ minLength: 1, maxLength: 20_000 }),
  visit_type: VisitTypeSchema,
  appointment_id: Type.Optional(
    Nullable(
      Type.String({
        format: 'uuid',
        maxLength: 36,
        description: 'The appointment of this patient the note belongs to',
      }),
    ),
  ),
});
export type CreateNoteInput = Static<typeof CreateNoteBody>;

export const NoteSchema = Type.Object({
  id: Uuid,
  patient_id: Uuid,
  content: Type.String(),
  visit_type: VisitTypeSchema,
  appointment_id: Type.Union([Uuid, Type.Null()]),
  author_id: Uuid,
  created_at: Timestamp,
});

export const NotePage = Page(NoteSchema);

export const GroupCount = Type.Object({ group: Type.String(), count: Type.Integer() });
export const GroupPage = Type.Object({ items: Type.Array(GroupCount), next_cursor: Type.Null() });

export const StatsSchema = Type.Object({
  total_patients: Type.Integer(),
  favorite_patients: Type.Integer(),
  groups: Type.Array(GroupCount),
});
