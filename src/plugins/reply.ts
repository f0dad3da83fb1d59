import type { FastifyReply } from 'fastify';
import { etagOf } from '../lib/etag.js';

export interface Versioned {
  id: string;
  version: number;
}

/** A versioned resource with its ETag, so clients can send it back as If-Match. */
export function sendTagged(reply: FastifyReply, resource: Versioned): FastifyReply {
  return reply.header('etag', etagOf(resource.version)).send(resource);
}

/** 201 for a new versioned resource: where it lives (Location) and its ETag. */
export function sendCreated(
  reply: FastifyReply,
  collectionPath: string,
  resource: Versioned,
): FastifyReply {
  return sendTagged(
    reply.status(201).header('location', `${collectionPath}/${resource.id}`),
    resource,
  );
}
