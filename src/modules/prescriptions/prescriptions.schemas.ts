import { Type, type Static } from 'typebox';
import { Page, PageQuery, Str, StrictObject, Text, Timestamp, Uuid } from '../../lib/schema.js';

const StatusSchema = Type.Union([
  Type.Literal('active'),
  Type.Literal('cancelled'),
  Type.Literal('completed'),
]);
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]));

const editable = {
  medication: Str({ minLength: 1, nonBlank: true, maxLength: 200 }),
  dosage: Str({ minLength: 1, nonBlank: true, maxLength: 100 }),
  frequency: Str({ minLength: 1, nonBlank: true, maxLength: 100 }),
  refills: Type.Integer({ minimum: 0, maximum: 12 }),
};

export const CreatePrescriptionBody = StrictObject({
  patient_id: Uuid,
  appointment_id: nullable(Uuid),
  ...editable,
  route: nullable(Str({ maxLength: 50 })),
  duration_days: nullable(Type.Integer({ minimum: 1, maximum: 365 })),
  quantity: nullable(Type.Integer({ minimum: 1, maximum: 10_000 })),
  refills: Type.Optional(editable.refills),
  instructions: nullable(Text({ maxLength: 2_000 })),
});
export type CreatePrescriptionInput = Static<typeof CreatePrescriptionBody>;

export const UpdatePrescriptionBody = StrictObject({
  medication: Type.Optional(editable.medication),
  dosage: Type.Optional(editable.dosage),
  frequency: Type.Optional(editable.frequency),
  refills: Type.Optional(editable.refills),
  route: nullable(Str({ maxLength: 50 })),
  duration_days: nullable(Type.Integer({ minimum: 1, maximum: 365 })),
  quantity: nullable(Type.Integer({ minimum: 1, maximum: 10_000 })),
  instructions: nullable(Text({ maxLength: 2_000 })),
});
export type UpdatePrescriptionInput = Static<typeof UpdatePrescriptionBody>;

export const CancelPrescriptionBody = StrictObject({
  reason: Type.Optional(Str({ minLength: 1, maxLength: 500 })),
});

const WarningSchema = Type.Object({
  code: Type.Literal('allergy_match'),
  allergen: Type.String(),
  message: Type.String(),
});

/** `GET /patients/{id}/allergy-check`: the medication as a prescription would name it. */
export const AllergyCheckQuery = StrictObject({ medication: editable.medication });
export type AllergyCheckQueryInput = Static<typeof AllergyCheckQuery>;

/** The warnings a prescription of that medication would get (the same shape as its `warnings`). */
export const AllergyCheckAnswer = Type.Object({
  warnings: Type.Array(WarningSchema, {
    description: 'allergy_match warnings found against the patient’s recorded allergies',
  }),
});

export const PrescriptionSchema = Type.Object(
  {
    id: Uuid,
    patient_id: Uuid,
    prescriber_id: Uuid,
    appointment_id: Type.Union([Uuid, Type.Null()]),
    medication: Type.String(),
    dosage: Type.String(),
    route: Type.Union([Type.String(), Type.Null()]),
    frequency: Type.String(),
    duration_days: Type.Union([Type.Integer(), Type.Null()]),
    quantity: Type.Union([Type.Integer(), Type.Null()]),
    refills: Type.Integer(),
    instructions: Type.Union([Type.String(), Type.Null()]),
    status: StatusSchema,
    cancel_reason: Type.Union([Type.String(), Type.Null()]),
    warnings: Type.Array(WarningSchema, {
      description: 'allergy_match warnings found against the patient’s recorded allergies',
    }),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Prescription' },
);
export type PrescriptionDto = Static<typeof PrescriptionSchema>;

export const ListPrescriptionsQuery = StrictObject({
  patient_id: Type.Optional(Uuid),
  prescriber_id: Type.Optional(Uuid),
  status: Type.Optional(StatusSchema),
  ...PageQuery,
});
export type ListPrescriptionsQueryInput = Static<typeof ListPrescriptionsQuery>;

export const PrescriptionPage = Page(Type.Ref('Prescription'));
