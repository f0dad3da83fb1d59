import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { validateOnFirstUse } from './lazy-compile.js';

// ajv-formats ships CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerceTypes: Options['coerceTypes']): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    // Unknown properties are an error (400), never silently dropped.
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    // TypeBox and OpenAPI add annotation keywords (description, examples) that Ajv need not know.
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

/**
 * Bodies are validated without type coercion ("123" is not 123); query strings, params and
 * headers arrive as text, so those are coerced to the declared types.
 */
export function installValidators(app: FastifyInstance): void {
  const strictAjv = makeAjv(false);
  const coercingAjv = makeAjv('array');
  app.setValidatorCompiler(({ schema, httpPart, contentType }) => {
    // A multipart body is a stream, read by its route part by part (documents); its schema is
    // there for the OpenAPI document, and the route validates the fields itself.
    if (httpPart === 'body' && contentType === 'multipart/form-data') return () => true;
    const ajv = httpPart === 'body' ? strictAjv : coercingAjv;
    return validateOnFirstUse(() => ajv.compile(schema));
  });
}
