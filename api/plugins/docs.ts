import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';

interface CollectedRoute {
  method: string;
  url: string;
  access: string;
  schema: Record<string, unknown>;
}

/** Zod to JSON Schema; transforms and refinements have no JSON form, so they are described by their input. */
function jsonSchema(schema: unknown, io: 'input' | 'output'): unknown {
  if (!(schema instanceof z.ZodType)) return schema ?? undefined;
  try {
    return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });
  } catch {
    return {};
  }
}

function operation(route: CollectedRoute) {
  const s = route.schema;
  const parameters: unknown[] = [];
  for (const [where, key] of [['path', 'params'], ['query', 'querystring']] as const) {
    const js = jsonSchema(s[key], 'input') as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    for (const [name, prop] of Object.entries(js?.properties ?? {})) {
      parameters.push({ name, in: where, required: where === 'path' || (js?.required ?? []).includes(name), schema: prop });
    }
  }
  const responses: Record<string, unknown> = {};
  for (const [code, schema] of Object.entries((s.response as Record<string, unknown> | undefined) ?? {})) {
    responses[code] = { description: code, content: { 'application/json': { schema: jsonSchema(schema, 'output') } } };
  }
  if (route.access !== 'public') responses['401'] ??= { description: 'no valid bearer token' };
  return {
    'x-access': route.access,
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(s.body, 'input') } } } } : {}),
    responses,
  };
}

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
      routes.push({ method, url: route.url, access: (route.config as { access?: string } | undefined)?.access ?? 'any', schema: (route.schema ?? {}) as Record<string, unknown> });
    }
  });

  let cached: { json: string; html: string } | null = null;
  const build = () => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of routes) {
      const url = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      (paths[url] ??= {})[r.method.toLowerCase()] = operation(r);
    }
    const doc = {
      openapi: '3.0.3',
      info: { title: 'NPanel API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      paths,
    };
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
