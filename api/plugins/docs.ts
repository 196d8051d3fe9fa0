import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { openApiDocument, type CollectedRoute } from '../openapi-document';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * OpenAPI 3 of every route, generated from the zod schemas the routes validate with (one source), served at
 * `/docs/openapi.json`, and a small HTML page at `/docs` (no script, no CDN: it passes the CSP as is).
 * Registered before the resource plugins, so its onRoute hook sees every route.
 */
export const docsPlugin = fp(async (app: FastifyInstance) => {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!/^\/(api|health|codec)\b/.test(route.url) || (route.schema as { hide?: boolean } | undefined)?.hide) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({
        method,
        url: route.url,
        access: (route.config as { access?: string } | undefined)?.access ?? 'any',
        schema: (route.schema ?? {}) as Record<string, unknown>,
      });
    }
  });

  let cached: { json: string; html: string } | null = null;
  const build = () => {
    const doc = openApiDocument(routes);
    const rows = routes
      .map((r) => `<tr><td><code>${r.method}</code></td><td><code>${escapeHtml(r.url)}</code></td><td>${escapeHtml(r.access)}</td></tr>`)
      .join('\n');
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>NPanel API</title>
<link rel="stylesheet" href="/web/style.css"></head><body class="docs"><main><h1>NPanel API</h1>
<p>Bearer tokens (<code>Authorization: Bearer npa_…</code>). Access: <em>public</em> (no token), <em>any</em> (admin or
the customer's own account), <em>admin</em>. Errors are <code>{ error, message, details?, correlationId? }</code>.
The full schema: <a href="/docs/openapi.json">openapi.json</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Access</th></tr></thead><tbody>
${rows}
</tbody></table></main></body></html>`;
    return { json: JSON.stringify(doc), html };
  };

  app.get('/docs/openapi.json', { config: { access: 'public' } }, async (_request, reply) => {
    cached ??= build();
    return reply.type('application/json; charset=utf-8').send(cached.json);
  });
  app.get('/docs', { config: { access: 'public' } }, async (_request, reply) => {
    cached ??= build();
    return reply.type('text/html; charset=utf-8').send(cached.html);
  });
});
