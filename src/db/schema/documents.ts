import { sql, type SQL } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { patients } from './patients.js';
import { users } from './users.js';

/**
 * Categories of medical documents (API.md). Receptionists may read the non-clinical ones only,
 * so the split is part of the permission rules, not just a label.
 */
export const clinicalCategories = [
  'lab_result',
  'imaging',
  'referral',
  'clinical_letter',
  'other_clinical',
] as const;
export const nonClinicalCategories = [
  'insurance',
  'consent',
  'identification',
  'correspondence',
  'administrative',
] as const;
export const documentCategories = [...clinicalCategories, ...nonClinicalCategories] as const;
export type DocumentCategory = (typeof documentCategories)[number];

/** The only content types kept; decided by magic bytes, never by the client's declared type. */
export const documentContentTypes = [
  'application/pdf',
  'image/png',
  'image/jpeg',
  'text/plain',
] as const;
export type DocumentContentType = (typeof documentContentTypes)[number];

/** `clean` when a scanner passed it; `not_scanned` when none is configured (or it failed open). */
export const scanStatuses = ['clean', 'not_scanned'] as const;
export type ScanStatus = (typeof scanStatuses)[number];

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    uploadedBy: uuid('uploaded_by')
      .notNull()
      .references(() => users.id),
    category: text('category').$type<DocumentCategory>().notNull(),
    description: text('description'),
    // The client's file name, sanitized; metadata only, never part of a path or storage key.
    originalName: text('original_name'),
    contentType: text('content_type').$type<DocumentContentType>().notNull(),
    // Of the stored content (after image metadata is stripped), which is what downloads serve.
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    // Server-generated (the document id); the driver maps it to a path, object or blob name.
    storageKey: text('storage_key').notNull().unique(),
    thumbnailKey: text('thumbnail_key'),
    encrypted: boolean('encrypted').notNull().default(false),
    scanStatus: text('scan_status').$type<ScanStatus>().notNull(),
    pageCount: integer('page_count'),
    // Text extracted from PDFs and plain-text files, for `?q=`.
    textContent: text('text_content'),
    search: tsvector('search').generatedAlwaysAs(
      (): SQL =>
        sql`to_tsvector('english', coalesce(original_name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(text_content, ''))`,
    ),
    version: integer('version').notNull().default(1),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    deletedBy: uuid('deleted_by').references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('documents_patient_idx').on(t.patientId, t.id),
    // The quota sums an uploader's live documents.
    index('documents_uploader_idx')
      .on(t.uploadedBy)
      .where(sql`${t.deletedAt} is null`),
    index('documents_search_idx').using('gin', t.search),
    check('documents_category_ck', sql.raw(`category in (${quoted(documentCategories)})`)),
    check(
      'documents_content_type_ck',
      sql.raw(`content_type in (${quoted(documentContentTypes)})`),
    ),
    check('documents_scan_status_ck', sql.raw(`scan_status in (${quoted(scanStatuses)})`)),
    check('documents_size_ck', sql`${t.sizeBytes} >= 0`),
  ],
);

export type DocumentRow = typeof documents.$inferSelect;
