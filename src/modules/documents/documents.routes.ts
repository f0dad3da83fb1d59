import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createHash, type Hash } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { AppError } from '../../lib/errors.js';
import { IdParams } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
import {
  bodyFingerprint,
  IdempotencyHeaders,
  settleFingerprint,
} from '../../plugins/idempotency.js';
import { sendCreated } from '../../plugins/reply.js';
import { resourceRoutes } from '../../plugins/routes.js';
import type { DocumentRow } from '../../db/schema/documents.js';
import { DocumentPage, ListDocumentsQuery, uploadFormSchema } from './documents.schemas.js';
import * as documents from './documents.service.js';
import { uploadDocument, type UploadPart } from './documents.upload.js';

const tags = ['documents'];
const DocumentRef = Type.Ref('Document');
const Problem = Type.Ref('Problem');

/** Parser limits beyond the file itself: one file, two short fields, nothing else. */
const formLimits = { files: 1, fields: 4, fieldSize: 4_096, parts: 6, headerPairs: 50 };

const tooLarge = () =>
  new AppError('payload_too_large', 'The file is larger than the upload limit');

const notMultipart = () =>
  new AppError('unsupported_media_type', 'Send the document as multipart/form-data');

/** Errors of @fastify/multipart and busboy, as problems the client can act on. */
function formProblem(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge();
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new AppError(
      'validation_failed',
      'Send one file with the fields category and description',
    );
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return notMultipart();
  if (
    code === 'FST_PROTO_VIOLATION' ||
    /multipart|boundary|part terminated|unexpected end/i.test(
      String((error as { message?: unknown }).message),
    )
  ) {
    return new AppError('bad_request', 'The multipart form is malformed');
  }
  return error;
}

/** The multipart parts as the upload use case wants them (no Fastify types in the service). */
async function* formParts(request: FastifyRequest): AsyncGenerator<UploadPart> {
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        yield { kind: 'file', name: part.fieldname, filename: part.filename, stream: part.file };
        // A file stream cut off at the parser's limit ends quietly; it must still fail.
        if (part.file.truncated) throw tooLarge();
      } else {
        yield { kind: 'field', name: part.fieldname, value: String(part.value) };
      }
    }
  } catch (error) {
    throw formProblem(error);
  }
}

/** Each part as a length-prefixed record, so no two different forms hash alike. */
function record(hash: Hash, ...items: string[]): void {
  for (const item of items) hash.update(`${Buffer.byteLength(item)}:${item};`);
}

/**
 * The parts, passed on unchanged while their fields and file bytes go into `hash` (the
 * Idempotency-Key fingerprint of an upload: the file is streamed, never held whole).
 */
async function* hashedParts(
  parts: AsyncIterable<UploadPart>,
  hash: Hash,
): AsyncGenerator<UploadPart> {
  for await (const part of parts) {
    if (part.kind === 'field') {
      record(hash, 'field', part.name, part.value);
      yield part;
      continue;
    }
    record(hash, 'file', part.name, part.filename);
    const content = createHash('sha256');
    const tee = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        content.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        record(hash, 'content', content.digest('hex'));
        done();
      },
    });
    // Errors reach the reader through `tee`, which pipeline destroys with them.
    pipeline(part.stream, tee, () => undefined);
    yield { ...part, stream: tee };
  }
}

/** Reads a form to its end (the fingerprint of a replayed upload), keeping nothing. */
async function drain(parts: AsyncIterable<UploadPart>): Promise<void> {
  for await (const part of parts) {
    if (part.kind === 'file') await finished(part.stream.resume());
  }
}

/**
 * `attachment` always, with an ASCII fallback name and the UTF-8 one (RFC 6266), so a browser
 * saves the file instead of rendering it.
 */
function contentDisposition(row: DocumentRow): string {
  const extension = {
    'application/pdf': 'pdf',
    'image/png': 'png',
    'image/jpeg': 'jpg',
    'text/plain': 'txt',
  }[row.contentType];
  const name = row.originalName ?? `document-${row.id}.${extension}`;
  const ascii = name.replace(/[^A-Za-z0-9._ -]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Headers for content a browser must not interpret: no sniffing, no scripts, no caching. */
function privateContent(reply: FastifyReply, type: string): FastifyReply {
  return reply
    .type(type)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'no-store');
}

const warn = (request: FastifyRequest) => (message: string, error: unknown) => {
  request.log.warn({ err: error }, message);
};

export const documentsRoutes: FastifyPluginAsyncTypebox<{
  ctx: Pick<AppContext, 'db' | 'config' | 'storage' | 'scanner'>;
}> = async (app, opts) => {
  const { ctx } = opts;
  await app.register(multipart, {
    // One byte over the limit must reach the upload pipeline, which refuses it with a 413.
    limits: { ...formLimits, fileSize: ctx.config.documentMaxBytes + 1 },
  });

  const route = resourceRoutes(app, ctx, { tags, resource: DocumentRef });

  app.post(
    '/patients/:id/documents',
    {
      config: { access: 'documents.write', idempotency: 'stream' },
      // Uploads are streamed: the 30 s request timeout applies, the JSON body limit does not.
      bodyLimit: ctx.config.documentMaxBytes + 64 * 1024,
      schema: {
        tags,
        summary: 'Upload a document (multipart: file, category, description); streamed to storage',
        params: IdParams,
        headers: IdempotencyHeaders,
        // Documents the form; the parts are validated as they stream (see the upload service).
        body: {
          content: {
            'multipart/form-data': { schema: uploadFormSchema(ctx.config.documentMaxBytes) },
          },
        },
        response: {
          201: DocumentRef,
          404: Problem,
          409: Problem,
          413: Problem,
          415: Problem,
          422: Problem,
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw notMultipart();
      if (request.idempotency === undefined) {
        const document = await uploadDocument(
          ctx,
          actorOf(request),
          request.params.id,
          formParts(request),
          warn(request),
        );
        return sendCreated(reply, '/api/v1/documents', document);
      }
      // With an Idempotency-Key the form is fingerprinted as it streams: a retry of a stored
      // upload reads its body only to compare it, and then gets the first answer.
      const hash = bodyFingerprint(request);
      const parts = hashedParts(formParts(request), hash);
      if (request.idempotency.replayOf !== undefined) {
        await drain(parts);
        settleFingerprint(request, reply, hash.digest('hex'));
        return reply;
      }
      const document = await uploadDocument(
        ctx,
        actorOf(request),
        request.params.id,
        parts,
        warn(request),
      );
      settleFingerprint(request, reply, hash.digest('hex'));
      return sendCreated(reply, '/api/v1/documents', document);
    },
  );

  route.listOf(
    '/patients/:id/documents',
    {
      access: 'documents.read',
      summary: "A patient's documents, newest first (`q` searches names and extracted text)",
      querystring: ListDocumentsQuery,
      page: DocumentPage,
    },
    documents.listPatientDocuments,
  );

  route.read(
    '/documents/:id',
    { access: 'documents.read', summary: "A document's metadata" },
    documents.getDocument,
  );

  app.get(
    '/documents/:id/content',
    {
      config: { access: 'documents.read' },
      schema: {
        tags,
        summary: 'Download (attachment, nosniff); the content is checked against its SHA-256 first',
        params: IdParams,
        response: {
          200: {
            content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
          },
          404: Problem,
          500: Problem,
        },
      },
    },
    async (request, reply) => {
      const { row, body } = await documents.openDocumentContent(
        ctx,
        actorOf(request),
        request.params.id,
      );
      const type = row.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : row.contentType;
      return privateContent(reply, type)
        .header('content-disposition', contentDisposition(row))
        .header('content-length', String(row.sizeBytes))
        .header('repr-digest', `sha-256=:${Buffer.from(row.sha256, 'hex').toString('base64')}:`)
        .send(body);
    },
  );

  app.get(
    '/documents/:id/thumbnail',
    {
      config: { access: 'documents.read' },
      schema: {
        tags,
        summary: 'A small JPEG preview of an image document',
        params: IdParams,
        response: {
          200: { content: { 'image/jpeg': { schema: Type.String({ format: 'binary' }) } } },
          404: Problem,
          500: Problem,
        },
      },
    },
    async (request, reply) => {
      const body = await documents.openThumbnail(ctx, actorOf(request), request.params.id);
      return privateContent(reply, 'image/jpeg').send(body);
    },
  );

  route.remove(
    '/documents/:id',
    {
      access: 'documents.write',
      summary: 'Delete a document (soft: hidden from everyone, kept for the record)',
      problems: [412],
    },
    documents.deleteDocument,
  );
};
