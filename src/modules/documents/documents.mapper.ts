import type { DocumentRow } from '../../db/schema/documents.js';
import type { DocumentDto } from './documents.schemas.js';

/** Storage keys and extracted text stay inside: clients see the document's facts only. */
export function toDocumentDto(row: DocumentRow): DocumentDto {
  return {
    id: row.id,
    patient_id: row.patientId,
    uploaded_by: row.uploadedBy,
    category: row.category,
    description: row.description,
    original_name: row.originalName,
    content_type: row.contentType,
    size_bytes: row.sizeBytes,
    sha256: row.sha256,
    has_thumbnail: row.thumbnailKey !== null,
    page_count: row.pageCount,
    encrypted: row.encrypted,
    scan_status: row.scanStatus,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
