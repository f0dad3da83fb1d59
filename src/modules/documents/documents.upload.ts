import { Readable } from 'node:stream';
import { Value } from 'typebox/value';
import type { AppContext } from '../../context.js';
import type { DocumentRow } from '../../db/schema/documents.js';
import { requirePermission } from '../../lib/access.js';
import { AppError, fieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Principal } from '../../lib/permissions.js';
import { auditedChange, patientRecordEvent, recordAudit, whoOf } from '../audit/audit.service.js';
import { appendEvent } from '../outbox/outbox.service.js';
import { loadPatient } from '../patients/patients.service.js';
import { backendUnavailable } from './documents.errors.js';
import { extractDocumentText } from './documents.text.js';
import { toDocumentDto } from './documents.mapper.js';
import * as repo from './documents.repository.js';
import { UploadFields, type DocumentDto, type UploadFieldsInput } from './documents.schemas.js';
import { ScannerUnavailableError } from '../../infra/scan/clamav.js';
import { VirusFoundError } from '../../infra/scan/gate.js';
import { streamUpload, type StoredUpload } from './upload-pipeline.js';

/** One part of a multipart form, as the route hands it over (no framework types here). */
export type UploadPart =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; name: string; filename: string; stream: Readable };

/**
 * The client's file name as metadata: the last path segment, without control or bidi-override
 * characters, NFC, at most 255 characters. It never becomes part of a path or storage key.
 */
export function sanitizeFileName(name: string): string | null {
  const base = name.split(/[/\\]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/g, '')
    .trim()
    .slice(0, 255);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? null : cleaned;
}

function invalidFields(fields: Record<string, string>): AppError | undefined {
  if (Value.Check(UploadFields, fields)) return undefined;
  const errors = [...Value.Errors(UploadFields, fields)].map((error) => ({
    field: `body${error.instancePath.replace(/\//g, '.') || ''}`,
    message: error.message,
  }));
  return new AppError('validation_failed', 'The upload form is not valid', { errors });
}

async function quotaLeft(
  ctx: Pick<AppContext, 'db' | 'config'>,
  userId: string,
): Promise<number | undefined> {
  const quota = ctx.config.documentQuotaBytes;
  if (quota === 0) return undefined;
  const left = quota - (await repo.storageUsed(ctx.db, userId));
  if (left <= 0) {
    throw new AppError('storage_quota_exceeded', `Your storage quota of ${quota} bytes is used up`);
  }
  return left;
}

/** Removes whatever an upload stored; used when the upload is refused after streaming. */
async function discard(ctx: Pick<AppContext, 'storage'>, keys: readonly string[]): Promise<void> {
  await Promise.all(keys.map((key) => ctx.storage.delete(key).catch(() => undefined)));
}

/** Storage and scanner failures that are not our own refusals are answered 503. */
function unavailable(error: unknown): unknown {
  if (error instanceof AppError || error instanceof VirusFoundError) return error;
  if (error instanceof ScannerUnavailableError) {
    return backendUnavailable(
      'scanner_unavailable',
      'The virus scanner could not check the file',
      error,
    );
  }
  return backendUnavailable('storage_unavailable', 'The document could not be stored', error);
}

/**
 * Reads the form. The file is streamed to storage when its part arrives (fields may come before
 * or after it); the fields are validated once the form has ended.
 */
async function receive(
  ctx: Pick<AppContext, 'config' | 'storage' | 'scanner'>,
  key: string,
  parts: AsyncIterable<UploadPart>,
  quotaLeftBytes: number | undefined,
  warn: (message: string, error: unknown) => void,
) {
  const fields: Record<string, string> = {};
  let upload: { stored: StoredUpload; filename: string } | undefined;
  try {
    for await (const part of parts) {
      if (part.kind === 'field') {
        fields[part.name] = part.value;
        continue;
      }
      if (part.name !== 'file' || upload !== undefined) {
        part.stream.destroy();
        throw fieldError(
          `body.${part.name}`,
          'unexpected file',
          'Send exactly one file, in the field "file"',
        );
      }
      const stored = await streamUpload(ctx.storage, ctx.scanner, key, part.stream, {
        maxBytes: ctx.config.documentMaxBytes,
        quotaLeftBytes,
        scannerFailOpen: ctx.config.clamavFailOpen,
        onScannerDown: (error) => {
          warn('virus scanner unavailable; file kept unscanned (CLAMAV_FAIL_OPEN)', error);
        },
      });
      upload = { stored, filename: part.filename };
    }
  } catch (error) {
    if (upload !== undefined) await discard(ctx, [key]);
    throw unavailable(error);
  }
  const invalid =
    upload === undefined
      ? fieldError('body.file', 'required', 'The form has no file')
      : invalidFields(fields);
  if (invalid !== undefined) {
    if (upload !== undefined) await discard(ctx, [key]);
    throw invalid;
  }
  if (upload === undefined) throw new Error('unreachable: a form without a file is invalid');
  return { upload, fields: fields as UploadFieldsInput };
}

/**
 * Uploads a document for a patient. Refusals: 404 unknown patient, 413 too large or over quota,
 * 415 not PDF/PNG/JPEG/text, 422 virus found (audited), 503 scanner or storage down.
 */
export async function uploadDocument(
  ctx: Pick<AppContext, 'db' | 'config' | 'storage' | 'scanner'>,
  actor: Principal,
  patientId: string,
  parts: AsyncIterable<UploadPart>,
  warn: (message: string, error: unknown) => void,
): Promise<DocumentDto> {
  requirePermission(actor, 'documents.write');
  await loadPatient(ctx, patientId);
  const quotaLeftBytes = await quotaLeft(ctx, actor.userId);
  const id = newId();
  const { upload, fields } = await receive(ctx, id, parts, quotaLeftBytes, warn).catch(
    async (error: unknown) => {
      if (!(error instanceof VirusFoundError)) throw error;
      await recordAudit(ctx.db, whoOf(actor), {
        action: 'document.virus_found',
        outcome: 'denied',
        resourceType: 'document',
        patientId,
        // The signature name (e.g. "Eicar-Test-Signature") describes the malware, not the patient.
        details: { signature: error.signature.slice(0, 200) },
      });
      throw new AppError('virus_found', `${error.message}; the file was not kept`);
    },
  );
  const { stored } = upload;
  const keys = [id];
  try {
    let thumbnailKey: string | null = null;
    const thumbnail = stored.thumbnail;
    if (thumbnail !== undefined) {
      const key = `${id}.thumb`;
      thumbnailKey = key;
      keys.push(key);
      await fromStorage(() => ctx.storage.put(key, Readable.from([thumbnail])));
    }
    const text =
      stored.contentType === 'application/pdf'
        ? await fromStorage(() => extractDocumentText(ctx, id, stored.sizeBytes, warn))
        : { pageCount: null, text: stored.textHead ?? null };
    const row = await auditedChange(
      ctx,
      whoOf(actor),
      async (tx): Promise<DocumentRow> => {
        const quota = ctx.config.documentQuotaBytes;
        if (
          quota > 0 &&
          (await repo.lockedStorageUsed(tx, actor.userId)) + stored.sizeBytes > quota
        ) {
          throw new AppError(
            'storage_quota_exceeded',
            `The file does not fit in your storage quota of ${quota} bytes`,
          );
        }
        const created = await repo.insertDocument(tx, {
          id,
          patientId,
          uploadedBy: actor.userId,
          category: fields.category,
          description: fields.description ?? null,
          originalName: sanitizeFileName(upload.filename),
          contentType: stored.contentType,
          sizeBytes: stored.sizeBytes,
          sha256: stored.sha256,
          storageKey: id,
          thumbnailKey,
          encrypted: ctx.config.documentsEncryptionKey !== undefined,
          scanStatus: stored.scan,
          pageCount: text.pageCount,
          textContent: text.text,
        });
        // The event carries the document's metadata only, never its content or text.
        await appendEvent(tx, {
          topic: 'document.added',
          aggregateType: 'document',
          aggregateId: created.id,
          payload: toDocumentDto(created),
        });
        return created;
      },
      (created) =>
        patientRecordEvent('document.create', 'document', created, {
          category: created.category,
          content_type: created.contentType,
          size_bytes: created.sizeBytes,
          scan: created.scanStatus,
        }),
    );
    return toDocumentDto(row);
  } catch (error) {
    // Database errors (an outage, the audit trail) keep their own problems; see fromStorage.
    await discard(ctx, keys);
    throw error;
  }
}

/** A storage step after the upload streamed: its failures are a 503 `storage_unavailable`. */
async function fromStorage<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw unavailable(error);
  }
}
