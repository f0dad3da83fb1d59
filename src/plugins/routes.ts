import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from 'typebox';
import type { Access, Principal } from '../lib/permissions.js';
import { IdParams, IfMatchHeaders, problemResponses } from '../lib/schema.js';
import { actorOf } from './auth.js';
import { IdempotencyHeaders } from './idempotency.js';
import { sendCreated, sendTagged, type Versioned } from './reply.js';

/** The `app` a module's routes plugin receives (TypeBox type provider). */
type TypeBoxApp = Parameters<FastifyPluginAsyncTypebox>[0];

/** What a route says about itself: who may call it, its OpenAPI line, the problems it documents. */
interface RouteDoc {
  access: Access;
  summary: string;
  description?: string;
  /** Problem responses beyond the ones the shape implies (404 on every route with an id). */
  problems?: number[];
}

type IfMatch = string | undefined;

/**
 * The route shapes every versioned resource (appointments, prescriptions, patients, prompts,
 * documents) repeats: list, create, read, update with If-Match, delete with If-Match, and a list
 * under one record. Each shape fixes its schema (id params, the If-Match header, the documented
 * problems) and its answer (ETag, 201 with Location, 204), and calls a service use case with the
 * module's context, the caller and the request's parts in the services' own order. A module's
 * route table then says only what differs: URL, permission, summary, body and the use case.
 * Routes of another shape are written out with `app.get(...)` as before.
 */
export function resourceRoutes<Ctx>(
  app: TypeBoxApp,
  ctx: Ctx,
  shared: { tags: string[]; resource: TSchema },
) {
  const { tags, resource } = shared;
  /** The route options: the permission, the OpenAPI line and the shape's own schema parts. */
  const optionsOf = <S extends object>(doc: RouteDoc, schema: S) => ({
    config: { access: doc.access },
    schema: {
      tags,
      summary: doc.summary,
      ...(doc.description === undefined ? {} : { description: doc.description }),
      ...schema,
    },
  });
  const problems = (doc: RouteDoc, ...implied: number[]) =>
    problemResponses(...implied, ...(doc.problems ?? []));
  const byId = (doc: RouteDoc, status: number, answer: TSchema) => ({
    params: IdParams,
    response: { [status]: answer, ...problems(doc, 404) },
  });

  return {
    /** GET a collection: one page, filtered by the query. */
    list<Q extends TSchema>(
      url: string,
      doc: RouteDoc & { querystring: Q; page: TSchema },
      list: (ctx: Ctx, actor: Principal, query: Static<Q>) => Promise<unknown>,
    ) {
      const { querystring, page } = doc;
      const schema = { querystring, response: { 200: page, ...problems(doc) } };
      app.get(url, optionsOf(doc, schema), async (request) =>
        list(ctx, actorOf(request), request.query as Static<Q>),
      );
    },

    /**
     * POST to a collection: 201 with Location (`<url>/<id>`) and ETag; options in the query.
     * `idempotent` honours the Idempotency-Key header (plugins/idempotency.ts).
     */
    create<B extends TSchema, Q extends TSchema = TSchema>(
      url: string,
      doc: RouteDoc & { body: B; querystring?: Q; idempotent?: boolean },
      create: (ctx: Ctx, actor: Principal, body: Static<B>, query: Static<Q>) => Promise<Versioned>,
    ) {
      const idempotent = doc.idempotent === true;
      const schema = {
        ...(doc.querystring === undefined ? {} : { querystring: doc.querystring }),
        body: doc.body,
        ...(idempotent ? { headers: IdempotencyHeaders } : {}),
        response: { 201: resource, ...problems(doc, ...(idempotent ? [409, 422] : [])) },
      };
      const options = optionsOf(doc, schema);
      if (idempotent) Object.assign(options.config, { idempotency: 'json' });
      app.post(url, options, async (request, reply) => {
        const created = await create(
          ctx,
          actorOf(request),
          request.body as Static<B>,
          (request.query ?? {}) as Static<Q>,
        );
        return sendCreated(reply, `${app.prefix}${url}`, created);
      });
    },

    /** GET one record by id, with its ETag. */
    read(
      url: string,
      doc: RouteDoc,
      read: (ctx: Ctx, actor: Principal, id: string) => Promise<Versioned>,
    ) {
      app.get(url, optionsOf(doc, byId(doc, 200, resource)), async (request, reply) =>
        sendTagged(reply, await read(ctx, actorOf(request), request.params.id)),
      );
    },

    /** PATCH one record, honouring If-Match; answers the new version with its ETag. */
    update<B extends TSchema, Q extends TSchema = TSchema>(
      url: string,
      doc: RouteDoc & { body: B; querystring?: Q },
      update: (
        ctx: Ctx,
        actor: Principal,
        id: string,
        body: Static<B>,
        ifMatch: IfMatch,
        query: Static<Q>,
      ) => Promise<Versioned>,
    ) {
      const schema = {
        ...byId(doc, 200, resource),
        ...(doc.querystring === undefined ? {} : { querystring: doc.querystring }),
        headers: IfMatchHeaders,
        body: doc.body,
      };
      app.patch(url, optionsOf(doc, schema), async (request, reply) => {
        const { params, body, headers } = request;
        const updated = await update(
          ctx,
          actorOf(request),
          params.id,
          body as Static<B>,
          headers['if-match'],
          (request.query ?? {}) as Static<Q>,
        );
        return sendTagged(reply, updated);
      });
    },

    /** DELETE one record, honouring If-Match: 204. */
    remove(
      url: string,
      doc: RouteDoc,
      remove: (ctx: Ctx, actor: Principal, id: string, ifMatch: IfMatch) => Promise<unknown>,
    ) {
      const schema = { ...byId(doc, 204, Type.Null()), headers: IfMatchHeaders };
      app.delete(url, optionsOf(doc, schema), async (request, reply) => {
        await remove(ctx, actorOf(request), request.params.id, request.headers['if-match']);
        return reply.status(204).send(null);
      });
    },

    /** GET a page of what belongs to one record (a patient's notes): 404 if it is not there. */
    listOf<Q extends TSchema>(
      url: string,
      doc: RouteDoc & { querystring: Q; page: TSchema },
      list: (ctx: Ctx, actor: Principal, id: string, query: Static<Q>) => Promise<unknown>,
    ) {
      const schema = { ...byId(doc, 200, doc.page), querystring: doc.querystring };
      app.get(url, optionsOf(doc, schema), async (request) =>
        list(ctx, actorOf(request), request.params.id, request.query as Static<Q>),
      );
    },
  };
}
