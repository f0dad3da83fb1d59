import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { problemResponses } from '../lib/schema.js';

// Statuses any route may answer (API.md): documented once here for every route.
const commonProblems = [400, 429, 500, 503];
const authProblems = [401, 403];

/**
 * OpenAPI 3.1 from the route schemas. Every route gets the common problem responses and, unless
 * public, the bearer and OAuth2 password security requirements and 401/403: the document cannot
 * drift from the code. The OAuth2 token URL is the login route, which takes the form Swagger UI
 * sends (auth.routes.ts).
 */
export const openapiPlugin = fp(async (app: FastifyInstance, opts: { config: Config }) => {
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide === true) return;
    const isPublic = route.config?.access === 'public' || !route.url.startsWith('/api/');
    const schema = (route.schema ??= {});
    schema.response = {
      ...problemResponses(...commonProblems, ...(isPublic ? [] : authProblems)),
      ...(schema.response as object | undefined),
    };
    // Either scheme authorizes: a pasted bearer token, or Swagger UI's username/password form,
    // whose token (from tokenUrl) Swagger UI then sends as a bearer token.
    if (!isPublic) {
      (schema as { security?: unknown }).security = [{ bearerAuth: [] }, { oauth2Password: [] }];
    }
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'MedCore API',
        version: '0.1.0',
        description: 'Practice-management backend: staff, patients, appointments, prescriptions.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          oauth2Password: {
            type: 'oauth2',
            flows: { password: { tokenUrl: '/api/v1/auth/login', scopes: {} } },
          },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  if (!opts.config.docsEnabled) return;
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: false,
    // The authorization survives a page reload (kept in the browser's localStorage).
    uiConfig: { persistAuthorization: true },
  });
  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, () =>
    app.swagger(),
  );
});
