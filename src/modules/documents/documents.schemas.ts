import { Type, type Static } from 'typebox';
import { documentCategories, documentContentTypes } from '../../db/schema/documents.js';
import { Nullable, Page, PageQuery, Str, StrictObject, Timestamp, Uuid } from '../../lib/schema.js';

/** One of a closed list of strings, typed as that list (a union of literals in the schema). */
function OneOf<T extends string>(values: readonly T[], options: { description: string }) {
  return Type.Unsafe<T>(
    Type.Union(
      values.map((value) => Type.Literal(value)),
      options,
    ),
  );
}

export const DocumentCategorySchema = OneOf(documentCategories, {
  description:
    'Clinical: lab_result, imaging, referral, clinical_letter, other_clinical. ' +
    'Non-clinical (receptionists may read these only): insurance, consent, identification, ' +
    'correspondence, administrative',
});

export const DocumentSchema = Type.Object(
  {
    id: Uuid,
    patient_id: Uuid,
    uploaded_by: Uuid,
    category: DocumentCategorySchema,
    description: Nullable(Type.String()),
    original_name: Nullable(
      Type.String({ description: "The uploader's file name, sanitized; metadata only" }),
    ),
    content_type: OneOf(documentContentTypes, {
      description: 'Decided from the content (magic bytes), never from the declared type',
    }),
    size_bytes: Type.Integer({ description: 'Of the stored content (image metadata removed)' }),
    sha256: Type.String({ description: 'Hex SHA-256 of the stored content, checked on download' }),
    has_thumbnail: Type.Boolean(),
    page_count: Nullable(Type.Integer({ description: 'PDFs' })),
    encrypted: Type.Boolean({ description: 'Stored encrypted at rest' }),
    scan_status: Type.Union([Type.Literal('clean'), Type.Literal('not_scanned')]),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Document' },
);
export type DocumentDto = Static<typeof DocumentSchema>;

/**
 * What the multipart form may carry besides the file. Parsed by hand from the parts (the body is
 * a stream, not JSON), then validated against this schema.
 */
export const UploadFields = StrictObject({
  category: DocumentCategorySchema,
  description: Type.Optional(Str({ maxLength: 1_000 })),
});
export type UploadFieldsInput = Static<typeof UploadFields>;

/** For the OpenAPI document only: the multipart form as a client sends it. */
export function uploadFormSchema(maxBytes: number) {
  return StrictObject({
    file: Type.String({
      format: 'binary',
      maxLength: maxBytes,
      description: 'PDF, PNG, JPEG or plain text, at most DOCUMENT_MAX_BYTES',
    }),
    ...UploadFields.properties,
  });
}

export const ListDocumentsQuery = StrictObject({
  q: Type.Optional(
    Str({ minLength: 1, maxLength: 200, description: 'Words in the name, description or text' }),
  ),
  category: Type.Optional(DocumentCategorySchema),
  ...PageQuery,
});
export type ListDocumentsQueryInput = Static<typeof ListDocumentsQuery>;

export const DocumentPage = Page(Type.Ref('Document'));
