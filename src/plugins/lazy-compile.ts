import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifySchemaValidationError, FastifyServerOptions } from 'fastify';

/**
 * Route schemas compiled on first use instead of at start-up. Fastify compiles every route's
 * validators (Ajv) and answer serializers (fast-json-stringify) while it gets ready: about 0.8 s
 * of the main thread for MedCore's routes on a 2-core machine, a quarter of a start on an
 * existing data directory (issue 14 asks for /health within 3 s). Compiled on a route's first
 * request instead, a start pays nothing for it, and each route pays a few milliseconds once.
 * A broken schema then fails its route's first request rather than the start; the tests call
 * every route.
 */

type Validate = ((data: unknown) => boolean) & {
  errors?: FastifySchemaValidationError[] | null;
};

/** A validator that compiles itself when first called (Fastify reads `.errors` after false). */
export function validateOnFirstUse(compile: () => Validate): Validate {
  let compiled: Validate | undefined;
  const validate: Validate = (data) => {
    compiled ??= compile();
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  };
  return validate;
}

type BuildSerializer = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>['buildSerializer'];

/** Fastify's own serializer compiler (fast-json-stringify), each route's built on first use. */
export const serializeOnFirstUse: BuildSerializer = (externalSchemas, options) => {
  const compileRoute = SerializerSelector()(externalSchemas, options);
  return (route) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data: unknown) => {
      serialize ??= compileRoute(route);
      return serialize(data);
    };
  };
};
