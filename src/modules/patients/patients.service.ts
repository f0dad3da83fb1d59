import type { AppContext } from '../../context.js';
import type { AuditAction } from '../audit/audit.actions.js';
import type { AuditEvent } from '../audit/audit.service.js';
import type { NewPatientRow, PatientRow } from '../../db/schema/patients.js';
import { requirePermission } from '../../lib/access.js';
import { isUniqueViolation } from '../../lib/db-errors.js';
import { AppError, fieldError, notFound, unlessStale } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/etag.js';
import { isUuid, newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { can, type Principal } from '../../lib/permissions.js';
import { auditedChange, recordAudit, whoOf } from '../audit/audit.service.js';
import { assertActiveDoctor } from '../users/users.service.js';
import { toPatientDto } from './patients.mapper.js';
import * as repo from './patients.repository.js';
import type {
  CreatePatientInput,
  ListPatientsQueryInput,
  UpdatePatientInput,
} from './patients.schemas.js';

const medicalFields = ['medical_history', 'allergies', 'notes'] as const;

/** Field-level rule: writing a medical field without the permission is a 403, never ignored. */
function assertMayWriteMedical(actor: Principal, input: object): void {
  const touched = medicalFields.filter((field) => field in input);
  if (touched.length > 0 && !can(actor.role, 'patients.medical.write')) {
    throw new AppError('forbidden', `Your role may not change ${touched.join(', ')}`, {
      errors: touched.map((field) => ({
        field: `body.${field}`,
        message: 'not allowed for your role',
      })),
    });
  }
}

function showMedical(actor: Principal): boolean {
  return can(actor.role, 'patients.medical.read');
}

/** A birth date must be a real past date (the format alone accepts 2999-02-30 style values). */
function assertBirthDate(value: string | null | undefined): void {
  if (value === undefined || value === null) return;
  const parsed = new Date(`${value}T00:00:00Z`);
  const valid =
    !Number.isNaN(parsed.getTime()) &&
    parsed.toISOString().slice(0, 10) === value &&
    parsed.getUTCFullYear() >= 1900 &&
    parsed.getTime() <= Date.now();
  if (!valid) {
    throw fieldError(
      'body.date_of_birth',
      'must be a real date between 1900 and today',
      'date_of_birth must be a real date in the past',
    );
  }
}

function duplicateEmail(cause: unknown): AppError {
  return fieldError(
    'body.email',
    'already used by another patient',
    'Another patient already has this email',
    { code: 'conflict', cause },
  );
}

/** Maps the API's snake_case fields to columns; undefined means "not given". */
function toColumns(input: UpdatePatientInput): Partial<NewPatientRow> {
  const columns: Partial<NewPatientRow> = {};
  const map: [keyof UpdatePatientInput, keyof NewPatientRow][] = [
    ['first_name', 'firstName'],
    ['last_name', 'lastName'],
    ['date_of_birth', 'dateOfBirth'],
    ['gender', 'gender'],
    ['email', 'email'],
    ['phone', 'phone'],
    ['address', 'address'],
    ['location', 'location'],
    ['group', 'group'],
    ['emergency_contacts', 'emergencyContacts'],
    ['initial_complaint', 'initialComplaint'],
    ['initial_diagnosis', 'initialDiagnosis'],
    ['medical_history', 'medicalHistory'],
    ['allergies', 'allergies'],
    ['notes', 'notes'],
    ['assigned_doctor_id', 'assignedDoctorId'],
    ['reminders_opt_out', 'remindersOptOut'],
  ];
  for (const [field, column] of map) {
    if (input[field] !== undefined) (columns as Record<string, unknown>)[column] = input[field];
  }
  if (columns.allergies) {
    // One spelling per substance, so matching and display stay predictable.
    columns.allergies = [...new Set(columns.allergies.map((a) => a.trim().toLowerCase()))];
  }
  return columns;
}

/** Registers a patient; refuses a likely duplicate person unless `allowDuplicate`. */
export async function createPatient(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  input: CreatePatientInput,
  allowDuplicate: boolean,
) {
  requirePermission(actor, 'patients.manage');
  assertMayWriteMedical(actor, input);
  assertBirthDate(input.date_of_birth);
  if (input.assigned_doctor_id) {
    await assertActiveDoctor(ctx, input.assigned_doctor_id, 'assigned_doctor_id');
  }
  if (!allowDuplicate && input.date_of_birth) {
    const twin = await repo.findLikelyDuplicate(
      ctx.db,
      input.first_name,
      input.last_name,
      input.date_of_birth,
    );
    if (twin) {
      // The answer names an existing patient: that is a read of patient data, so it is audited.
      await recordAudit(
        ctx.db,
        whoOf(actor),
        patientEvent('patient.read', twin.id, { via: 'duplicate_check' }),
      );
      throw new AppError(
        'conflict',
        `A patient with this name and birth date exists (${twin.id}); repeat with ?allow_duplicate=true if this is another person`,
        { extensions: { duplicate_patient_id: twin.id } },
      );
    }
  }
  try {
    const row = await auditedChange(
      ctx,
      whoOf(actor),
      (tx) =>
        repo.insertPatient(tx, {
          ...toColumns(input),
          id: newId(),
          firstName: input.first_name,
          lastName: input.last_name,
          createdBy: actor.userId,
        }),
      (created) => patientEvent('patient.create', created.id),
    );
    return toPatientDto(row, showMedical(actor), false);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateEmail(error);
    throw error;
  }
}

/** Loads a live patient; unknown and deleted ids are the same 404. */
export async function loadPatient(ctx: Pick<AppContext, 'db'>, id: string): Promise<PatientRow> {
  const row = await repo.findPatient(ctx.db, id);
  if (!row) throw notFound('patient');
  return row;
}

/** The audit event of an action on one patient record. */
export function patientEvent(
  action: AuditAction,
  patientId: string,
  details?: AuditEvent['details'],
) {
  return { action, resourceType: 'patient', resourceId: patientId, patientId, details };
}

export async function getPatient(ctx: Pick<AppContext, 'db'>, actor: Principal, id: string) {
  requirePermission(actor, 'patients.manage');
  // The favourite mark comes with the row: one statement, not two.
  const found = await repo.findPatientForViewer(ctx.db, id, actor.userId);
  if (!found) throw notFound('patient');
  await recordAudit(ctx.db, whoOf(actor), patientEvent('patient.read', id));
  return toPatientDto(found.patient, showMedical(actor), found.isFavorite);
}

export async function updatePatient(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
  input: UpdatePatientInput,
  ifMatch: string | undefined,
) {
  requirePermission(actor, 'patients.manage');
  assertMayWriteMedical(actor, input);
  const current = await loadPatient(ctx, id);
  checkIfMatch(ifMatch, current.version);
  assertBirthDate(input.date_of_birth);
  if (input.assigned_doctor_id) {
    await assertActiveDoctor(ctx, input.assigned_doctor_id, 'assigned_doctor_id');
  }
  const columns = toColumns(input);
  try {
    const row = await auditedChange(
      ctx,
      whoOf(actor),
      (tx) => unlessStale('patient', repo.updatePatient(tx, id, columns, current.version)),
      // Which fields changed, never their values.
      () => patientEvent('patient.update', id, { fields: Object.keys(input).sort().join(',') }),
    );
    return toPatientDto(row, showMedical(actor), await repo.isFavorite(ctx.db, actor.userId, id));
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateEmail(error);
    throw error;
  }
}

/** Soft delete: the row stays (audit trail), the API stops showing it. */
export async function deletePatient(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  actor: Principal,
  id: string,
  ifMatch: string | undefined,
): Promise<void> {
  requirePermission(actor, 'patients.manage');
  const current = await loadPatient(ctx, id);
  checkIfMatch(ifMatch, current.version);
  await auditedChange(
    ctx,
    whoOf(actor),
    async (tx) => {
      await unlessStale(
        'patient',
        repo.updatePatient(tx, id, { deletedAt: ctx.clock.now() }, current.version),
      );
    },
    () => patientEvent('patient.delete', id),
  );
}

function sortOf(query: ListPatientsQueryInput): repo.PatientSort {
  if (query.sort !== undefined) return query.sort;
  return query.q === undefined ? 'name' : 'relevance';
}

const cursorFields: Record<repo.PatientSort, string[]> = {
  relevance: ['r', 'l', 'f', 'id'],
  name: ['l', 'f', 'id'],
  created_at: ['c', 'id'],
  '-created_at': ['c', 'id'],
};

function cursorKey(sort: repo.PatientSort, row: repo.PatientListRow): Record<string, string> {
  const p = row.patient;
  switch (sort) {
    case 'relevance':
      return { r: String(row.rank), l: p.lastName, f: p.firstName, id: p.id };
    case 'name':
      return { l: p.lastName, f: p.firstName, id: p.id };
    case 'created_at':
    case '-created_at':
      return { c: p.createdAt.toISOString(), id: p.id };
  }
}

const validCursorValue: Record<string, (value: string) => boolean> = {
  id: isUuid,
  r: (value) => Number.isFinite(Number(value)),
  c: (value) => !Number.isNaN(Date.parse(value)),
};

export async function listPatients(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  query: ListPatientsQueryInput,
) {
  requirePermission(actor, 'patients.manage');
  const sort = sortOf(query);
  const limit = query.limit ?? 20;
  const after = decodeCursor(query.cursor, cursorFields[sort], validCursorValue);
  const rows = await repo.listPatients(ctx.db, {
    viewerId: actor.userId,
    q: query.q,
    assignedDoctorId: query.assigned_doctor_id,
    dateOfBirth: query.date_of_birth,
    group: query.group,
    favoritesOnly: query.favorites_only,
    sort,
    after,
    limit,
  });
  const page = toPage(rows, limit, (row) => cursorKey(sort, row));
  await recordAudit(ctx.db, whoOf(actor), {
    action: 'patient.list',
    resourceType: 'patient',
    patientIds: page.items.map((row) => row.patient.id),
    details: { count: page.items.length, search: query.q !== undefined },
  });
  const medical = showMedical(actor);
  return {
    items: page.items.map((row) => toPatientDto(row.patient, medical, row.isFavorite)),
    next_cursor: page.next_cursor,
  };
}

export async function setFavorite(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
  favorite: boolean,
): Promise<void> {
  requirePermission(actor, 'patients.manage');
  await loadPatient(ctx, id);
  await auditedChange(
    ctx,
    whoOf(actor),
    (tx) =>
      favorite ? repo.addFavorite(tx, actor.userId, id) : repo.removeFavorite(tx, actor.userId, id),
    () => patientEvent('patient.favorite', id, { favorite }),
  );
}

export async function listGroups(ctx: Pick<AppContext, 'db'>, actor: Principal) {
  requirePermission(actor, 'patients.manage');
  return { items: await repo.groupCounts(ctx.db), next_cursor: null };
}

export async function patientStats(ctx: Pick<AppContext, 'db'>, actor: Principal) {
  requirePermission(actor, 'patients.manage');
  const [totals, groups] = await Promise.all([
    repo.countPatients(ctx.db, actor.userId),
    repo.groupCounts(ctx.db),
  ]);
  return { total_patients: totals.total, favorite_patients: totals.favorites, groups };
}
