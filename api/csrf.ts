import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from './api-error';
import { COOKIE_NAME } from './session-cookie';

/** Methods a browser may send cross-site without a preflight or that change state: the ones CSRF is about. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CsrfOptions {
  /** The console's configured public origin (NPANEL_API_PUBLIC_URL), admitted besides the request's own Host. */
  publicOrigin?: string;
  /** Temporal Web's origin: it calls the codec endpoint (and only that) cross-origin with the cookie. */
  codecOrigin?: string;
}

const originOf = (url: string | undefined) => (url ? new URL(url).origin : undefined);

/**
 * Cross-site request forgery guard. A browser attaches the `npanel_token` cookie to any request to our host,
 * whoever's page made it; a bearer header it never adds by itself. So a state-changing request that carries
 * the cookie and no Authorization header must prove it comes from our own pages: its `Origin` (which browsers
 * send on every non-GET fetch and form post, same-origin too, and which a page cannot forge) must be the
 * Host the request came to or the configured public origin; else 403 before the token is even looked at.
 * Bearer-header requests (the UI, curl, the CLI) are unaffected.
 */
export const csrfPlugin = fp(async (app: FastifyInstance, opts: CsrfOptions) => {
  const publicOrigin = originOf(opts.publicOrigin);
  const codecOrigin = originOf(opts.codecOrigin);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (SAFE_METHODS.has(request.method) || request.headers.authorization !== undefined) return;
    if (!hasSessionCookie(request.headers.cookie)) return;
    const origin = request.headers.origin;
    if (typeof origin === 'string' && isSameOrigin(origin, request, publicOrigin, codecOrigin)) return;
    throw ApiError.forbidden(
      `a request authenticated by the ${COOKIE_NAME} cookie must come from this console's own origin (Origin ${origin === undefined ? 'missing' : 'foreign'})`,
    );
  });
});

function hasSessionCookie(cookie: string | undefined): boolean {
  return cookie !== undefined && new RegExp(`(?:^|;)\\s*${COOKIE_NAME}=`).test(cookie);
}

function isSameOrigin(origin: string, request: FastifyRequest, publicOrigin?: string, codecOrigin?: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // `null` (sandboxed frames, file:) and garbage are foreign
  }
  if (parsed.origin === publicOrigin) return true;
  if (codecOrigin && parsed.origin === codecOrigin && request.url.startsWith('/codec/')) return true;
  // The Host header itself (nginx forwards the client's, port included): never X-Forwarded-Host, which a
  // client could add and nginx would pass on.
  const host = request.headers.host;
  return typeof host === 'string' && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host === host.toLowerCase();
}
