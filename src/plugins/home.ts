import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * `GET /`: a small page for whoever opens the server's address in a browser, linking the API
 * documentation and the health check (the staff console will take this place later). Plain
 * HTML with no script, style or external resource, so the CSP of every answer holds as it is.
 */
function page(docs: boolean): string {
  const docsLink = docs
    ? '<li><a href="/docs">API documentation</a> (Swagger UI; <a href="/openapi.json">OpenAPI document</a>)</li>'
    : '<li>API documentation is turned off (DOCS_ENABLED=false)</li>';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>MedCore</title></head>
<body>
<h1>MedCore</h1>
<p>The practice-management API is running. The API lives under <code>/api/v1</code>.</p>
<ul>
${docsLink}
<li><a href="/health">Health check</a> and <a href="/health/ready">readiness</a></li>
</ul>
</body>
</html>
`;
}

export const homePlugin = fp(async (app: FastifyInstance, opts: { docsEnabled: boolean }) => {
  const html = page(opts.docsEnabled);
  app.get('/', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(html),
  );
});
