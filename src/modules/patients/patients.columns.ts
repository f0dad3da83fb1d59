import { getTableColumns } from 'drizzle-orm';
import { patients, type PatientRow } from '../../db/schema/patients.js';

/**
 * The columns a list page reads: what the wire form and the cursors need. Not the search columns
 * (search_text and name_text, about a fifth of a row's bytes) nor deleted_at and created_by: a
 * page of 100 moves and parses that much less for nothing.
 */
const { nameText, searchText, deletedAt, createdBy, ...listColumns } = getTableColumns(patients);

export const patientListColumns = listColumns;

/** A patient as a list page reads it (a full row is one too). */
export type PatientListView = Omit<
  PatientRow,
  'nameText' | 'searchText' | 'deletedAt' | 'createdBy'
>;
