import { z } from 'zod';
import { NO_HIDDEN_CHARACTERS } from '../common/names';
import { errorBody } from '../common/api-schemas';

/** A route as the docs plugin collects it (api/plugins/docs.ts). */
export interface CollectedRoute {
  method: string;
  url: string;
  access: string;
  schema: Record<string, unknown>;
}

/**
 * The media type a route answers 200 with when it is not JSON, declared in its `schema.produces` (the
 * swagger convention): the event stream (api/plugins/events.ts) writes `text/event-stream` itself.
 */
export const EVENT_STREAM = 'text/event-stream';

/**
 * The hidden-characters pattern is `\p{…}`, which needs ECMAScript's `u` flag: JSON Schema clients and fuzzers
 * cannot use it. Every name field that carries it also carries a closed ASCII pattern (or publishes one,
 * `domainSchema`), which already excludes each such character, so the document states the ASCII one alone.
 */
function dropUnicodePropertyPattern(js: Record<string, unknown>): void {
  const allOf = js.allOf as Record<string, unknown>[] | undefined;
  if (allOf) {
    const kept = allOf.filter((part) => part.pattern !== NO_HIDDEN_CHARACTERS.source);
    if (kept.length === 1 && kept.length < allOf.length) {
      delete js.allOf;
      Object.assign(js, kept[0]);
    } else js.allOf = kept;
  }
}

/** One event of a stream as OpenAPI tools parse it (its fields; `data` is JSON text: see api/plugins/events.ts). */
const SSE_EVENT = {
  type: 'object',
  properties: { event: { type: 'string' }, data: { type: 'string' }, id: { type: 'string' }, retry: { type: 'integer' } },
  required: ['data'],
};

/** Zod to JSON Schema; transforms and refinements have no JSON form, so they are described by their input. */
function jsonSchema(schema: unknown, io: 'input' | 'output'): unknown {
  if (!(schema instanceof z.ZodType)) return schema ?? undefined;
  try {
    return z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      target: 'openapi-3.0',
      override: ({ jsonSchema: js }) => dropUnicodePropertyPattern(js as Record<string, unknown>),
    });
  } catch {
    return {};
  }
}

const errorJson = () => ({ 'application/json': { schema: jsonSchema(errorBody, 'output') } });

/**
 * Statuses every route of a kind answers before or besides its handler, written here once so no route can
 * forget one. Each comes from a layer in front of the handler:
 * - 400: a parameter, query or body the route's schema refuses (api/error-handler.ts), or a path that is not
 *   valid percent-encoding (Fastify's router, `frameworkErrors` in api/app.ts);
 * - 401/403/429: the auth plugin (no or unknown token; admin route, or a token on the other role's port) and
 *   the failed-authentication limit (api/plugins/security.ts);
 * - 413/415: a body over the body limit or not JSON;
 * - 414: a path parameter longer than the router takes (`maxParamLength` in api/app.ts).
 */
function layerStatuses(route: CollectedRoute, hasPathParams: boolean): Record<string, string> {
  const s = route.schema;
  const out: Record<string, string> = {};
  if (s.params || s.querystring || s.body || hasPathParams) out['400'] = 'invalid request: the body names each field and why';
  if (route.access !== 'public') {
    out['401'] = 'no valid bearer token';
    out['403'] =
      route.access === 'admin'
        ? 'not an administrator token, or a token of the other role on a portal port'
        : 'a token of the other role on a portal port';
    out['429'] = 'too many failed authentications from this address (Retry-After says when to try again)';
  }
  if (s.body) {
    out['413'] = 'body larger than the API accepts';
    out['415'] = 'body is not application/json';
  }
  if (hasPathParams) out['414'] = 'a path parameter longer than the router accepts';
  return out;
}

function operation(route: CollectedRoute) {
  const s = route.schema;
  const parameters: unknown[] = [];
  for (const [where, key] of [
    ['path', 'params'],
    ['query', 'querystring'],
  ] as const) {
    const js = jsonSchema(s[key], 'input') as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    for (const [name, prop] of Object.entries(js?.properties ?? {})) {
      parameters.push({ name, in: where, required: where === 'path' || (js?.required ?? []).includes(name), schema: prop });
    }
  }
  const hasPathParams = route.url.includes(':');
  const responses: Record<string, unknown> = {};
  for (const [code, schema] of Object.entries((s.response as Record<string, unknown> | undefined) ?? {})) {
    // A 204 has no body, hence no media type (declaring one makes clients expect JSON that never comes).
    responses[code] =
      code === '204'
        ? { description: 'no content' }
        : { description: code, content: { 'application/json': { schema: jsonSchema(schema, 'output') } } };
  }
  if ([s.produces].flat().includes(EVENT_STREAM)) {
    responses['200'] ??= {
      description: 'Server-Sent Events, until the workflow closes',
      content: { [EVENT_STREAM]: { schema: SSE_EVENT } },
    };
  }
  for (const [code, description] of Object.entries(layerStatuses(route, hasPathParams))) {
    responses[code] ??= { description, content: errorJson() };
  }
  return {
    'x-access': route.access,
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(s.body, 'input') } } } } : {}),
    responses,
  };
}

/** OpenAPI 3 of the collected routes: one document, every status each route can answer. */
export function openApiDocument(routes: CollectedRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const url = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    (paths[url] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.0.3',
    info: { title: 'NPanel API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
