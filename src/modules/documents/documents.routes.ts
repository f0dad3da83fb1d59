import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { AppError } from '../../lib/errors.js';
import { IdParams } from '../../lib/schema.js';
import { actorOf } from '../../plugins/auth.js';
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
      config: { access: 'documents.write' },
      // Uploads are streamed: the 30 s request timeout applies, the JSON body limit does not.
      bodyLimit: ctx.config.documentMaxBytes + 64 * 1024,
      schema: {
        tags,
        summary: 'Upload a document (multipart: file, category, description); streamed to storage',
        params: IdParams,
        // Documents the form; the parts are validated as they stream (see the upload service).
        body: {
          content: {
            'multipart/form-data': { schema: uploadFormSchema(ctx.config.documentMaxBytes) },
          },
        },
        response: { 201: DocumentRef, 404: Problem, 413: Problem, 415: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw notMultipart();
      const document = await uploadDocument(
        ctx,
        actorOf(request),
        request.params.id,
        formParts(request),
        (message, error) => {
          request.log.warn({ err: error }, message);
        },
      );
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
