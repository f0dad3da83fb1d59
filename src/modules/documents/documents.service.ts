import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { AppContext } from '../../context.js';
import {
  clinicalCategories,
  documentCategories,
  nonClinicalCategories,
  type DocumentCategory,
  type DocumentRow,
} from '../../db/schema/documents.js';
import { requirePermission } from '../../lib/access.js';
import { AppError, forbidden, notFound, unlessStale } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/etag.js';
import { pageById } from '../../lib/pagination.js';
import { can, type Principal } from '../../lib/permissions.js';
import type { AuditAction } from '../audit/audit.actions.js';
import {
  auditedChange,
  patientRecordEvent,
  recordAudit,
  whoOf,
  type AuditEvent,
} from '../audit/audit.service.js';
import { appendEvent } from '../outbox/outbox.service.js';
import { loadPatient } from '../patients/patients.service.js';
import { backendUnavailable } from './documents.errors.js';
import { toDocumentDto } from './documents.mapper.js';
import * as repo from './documents.repository.js';
import type { ListDocumentsQueryInput } from './documents.schemas.js';
import { StorageIntegrityError, StorageNotFoundError } from '../../infra/storage/storage.js';

/** Categories a role may see: clinical ones need a clinical role (receptionists: non-clinical). */
function readableCategories(actor: Principal): readonly DocumentCategory[] {
  return can(actor.role, 'documents.clinical.read') ? documentCategories : nonClinicalCategories;
}

function isClinical(category: DocumentCategory): boolean {
  return (clinicalCategories as readonly string[]).includes(category);
}

/**
 * A live document the caller may read. Deleted documents are gone for every caller (the row
 * stays for the audit trail). A clinical document asked for by a non-clinical role is a 403.
 */
async function loadReadable(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
): Promise<DocumentRow> {
  requirePermission(actor, 'documents.read');
  const row = await repo.findDocument(ctx.db, id);
  if (!row) throw notFound('document');
  if (isClinical(row.category) && !can(actor.role, 'documents.clinical.read')) {
    throw forbidden('Clinical documents are for clinical staff');
  }
  return row;
}

const documentEvent = (action: AuditAction, row: DocumentRow) =>
  patientRecordEvent(action, 'document', row, { category: row.category });

export async function getDocument(ctx: Pick<AppContext, 'db'>, actor: Principal, id: string) {
  const row = await loadReadable(ctx, actor, id);
  await recordAudit(ctx.db, whoOf(actor), documentEvent('document.read', row));
  return toDocumentDto(row);
}

/** A patient's documents, newest first; `q` searches names, descriptions and extracted text. */
export async function listPatientDocuments(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  patientId: string,
  query: ListDocumentsQueryInput,
) {
  requirePermission(actor, 'documents.read');
  await loadPatient(ctx, patientId);
  const readable = readableCategories(actor);
  const categories =
    query.category === undefined ? readable : readable.filter((c) => c === query.category);
  const page = await pageById(query, async (beforeId, limit) =>
    categories.length === 0
      ? []
      : repo.listDocuments(ctx.db, { patientId, categories, q: query.q, beforeId, limit }),
  );
  await recordAudit(ctx.db, whoOf(actor), {
    action: 'document.list',
    resourceType: 'document',
    patientId,
    details: { returned: page.items.length, searched: query.q !== undefined },
  });
  return { items: page.items.map(toDocumentDto), next_cursor: page.next_cursor };
}

/** Soft delete: the document disappears for everyone; row and content are kept. */
export async function deleteDocument(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
  ifMatch: string | undefined,
): Promise<void> {
  requirePermission(actor, 'documents.write');
  const current = await loadReadable(ctx, actor, id);
  checkIfMatch(ifMatch, current.version);
  await auditedChange(
    ctx,
    whoOf(actor),
    async (tx) => {
      const row = await unlessStale(
        'document',
        repo.softDeleteDocument(tx, id, current.version, actor.userId),
      );
      await appendEvent(tx, {
        topic: 'document.deleted',
        aggregateType: 'document',
        aggregateId: row.id,
        payload: toDocumentDto(row),
      });
      return row;
    },
    (row) => documentEvent('document.delete', row),
  );
}

/** Small files are kept from the check and sent from memory; larger ones are read again. */
const keepInMemoryBytes = 1_048_576;

/**
 * Reads the stored content through its SHA-256 before anything is sent, so a corrupted (or, when
 * encrypted, tampered) file is never served: the caller gets `document_corrupt`, and the audit
 * trail records the failure. Returns the content when it was small enough to keep.
 */
async function verifyContent(
  ctx: Pick<AppContext, 'db' | 'storage'>,
  actor: Principal,
  row: DocumentRow,
): Promise<Buffer | undefined> {
  const hash = createHash('sha256');
  const kept: Buffer[] | undefined = row.sizeBytes <= keepInMemoryBytes ? [] : undefined;
  let size = 0;
  let intact: boolean;
  try {
    for await (const chunk of await ctx.storage.get(row.storageKey)) {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      size += bytes.length;
      kept?.push(bytes);
    }
    intact = size === row.sizeBytes && hash.digest('hex') === row.sha256;
  } catch (error) {
    if (!isIntegrityFailure(error)) {
      throw backendUnavailable('storage_unavailable', 'The document could not be read', error);
    }
    intact = false;
  }
  if (!intact) {
    throw await corrupt(
      ctx,
      actor,
      row,
      'The stored content does not match its recorded SHA-256; it is not served. Restore it from a backup.',
    );
  }
  return kept === undefined ? undefined : Buffer.concat(kept);
}

/** Records an integrity failure in the audit trail; returns the problem the client gets. */
async function corrupt(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  row: DocumentRow,
  message: string,
  details: AuditEvent['details'] = { category: row.category },
): Promise<AppError> {
  await recordAudit(ctx.db, whoOf(actor), {
    ...documentEvent('document.corrupt', row),
    outcome: 'failure',
    details,
  });
  return new AppError('document_corrupt', message);
}

/** Missing content, or content that fails decryption, is corruption; anything else an outage. */
function isIntegrityFailure(error: unknown): boolean {
  return error instanceof StorageNotFoundError || error instanceof StorageIntegrityError;
}

/**
 * The checked content of a document. The audit row is written before the second read opens a
 * stream, so a failed audit write cannot leave a storage stream (a file or a pooled socket) open.
 */
export async function openDocumentContent(
  ctx: Pick<AppContext, 'db' | 'storage'>,
  actor: Principal,
  id: string,
): Promise<{ row: DocumentRow; body: Buffer | Readable }> {
  const row = await loadReadable(ctx, actor, id);
  const kept = await verifyContent(ctx, actor, row);
  await recordAudit(ctx.db, whoOf(actor), documentEvent('document.download', row));
  if (kept !== undefined) return { row, body: kept };
  try {
    return { row, body: await ctx.storage.get(row.storageKey) };
  } catch (error) {
    throw backendUnavailable('storage_unavailable', 'The document could not be read', error);
  }
}

/**
 * The preview of an image document (a JPEG); 404 for documents without one. It is read whole
 * before anything is sent (it is a few KB): an encrypted object is authenticated only at its end,
 * so streaming it would send unauthenticated bytes and then break off on a tampered one.
 */
export async function openThumbnail(
  ctx: Pick<AppContext, 'db' | 'storage'>,
  actor: Principal,
  id: string,
) {
  const row = await loadReadable(ctx, actor, id);
  if (row.thumbnailKey === null) throw new AppError('not_found', 'This document has no thumbnail');
  let body: Buffer;
  try {
    body = await buffer(await ctx.storage.get(row.thumbnailKey));
  } catch (error) {
    if (error instanceof StorageNotFoundError) {
      throw new AppError('not_found', 'The thumbnail is missing');
    }
    if (error instanceof StorageIntegrityError) {
      throw await corrupt(ctx, actor, row, 'The stored thumbnail failed its integrity check', {
        category: row.category,
        part: 'thumbnail',
      });
    }
    throw backendUnavailable('storage_unavailable', 'The thumbnail could not be read', error);
  }
  await recordAudit(ctx.db, whoOf(actor), documentEvent('document.thumbnail', row));
  return body;
}

/** Live documents and the bytes they hold, for the admin dashboard. */
export async function documentTotals(ctx: Pick<AppContext, 'db'>) {
  return repo.documentTotals(ctx.db);
}
