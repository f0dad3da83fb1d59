/**
 * MedCore's typed client: openapi-fetch over the types generated from the service's OpenAPI
 * document (schema.d.ts). Paths, parameters, bodies and answers are checked by the compiler:
 *
 *   const api = createMedcoreClient({ baseUrl: 'https://clinic.example', accessToken: () => token });
 *   const { data, error } = await api.GET('/api/v1/patients/{id}', { params: { path: { id } } });
 *
 * `error` is the problem+json body of a 4xx/5xx answer (`Problem`), with `errors[].field` naming
 * the field a validation message concerns.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths };
export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

export interface ClientOptions {
  /** Where the service is; '' (the default) is the page's own origin. */
  baseUrl?: string;
  /** The access token to send as a bearer token, read on every request (kept in memory). */
  accessToken?: () => string | undefined;
  /** 'include' sends cookies (the console's refresh cookie); the default is 'same-origin'. */
  credentials?: 'include' | 'same-origin' | 'omit';
  fetch?: typeof globalThis.fetch;
  /** Extra headers on every request (e.g. Accept-Language). */
  headers?: Record<string, string>;
}

export type MedcoreClient = Client<paths>;

export function createMedcoreClient(options: ClientOptions = {}): MedcoreClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? '',
    credentials: options.credentials ?? 'same-origin',
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const { accessToken } = options;
  if (accessToken) {
    const bearer: Middleware = {
      onRequest({ request }) {
        const token = accessToken();
        if (token !== undefined && !request.headers.has('authorization')) {
          request.headers.set('authorization', `Bearer ${token}`);
        }
        return request;
      },
    };
    client.use(bearer);
  }
  return client;
}

/** Whether a value is a problem+json body (the `error` of an answer that was not 2xx). */
export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'number' &&
    typeof (value as { title?: unknown }).title === 'string'
  );
}
