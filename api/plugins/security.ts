import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../api-error';

/**
 * Response headers of every answer. The UI loads nothing from elsewhere (no CDN, no inline script), so the
 * CSP can be `'self'` only; frames are refused outright. Exported for the SSE stream, which writes its own
 * head (a hijacked reply skips onSend).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/** Header nginx sets on the role-specific ports (2082/2083 customer, 2086/2087 admin); absent on 8080. */
export const PORTAL_HEADER = 'x-npanel-portal';

export interface AuthLimitOptions {
  /** Failed authentications (a credential was presented and refused) allowed per IP per window. */
  maxFailures: number;
  windowMs: number;
}

const DEFAULT_LIMIT: AuthLimitOptions = { maxFailures: 20, windowMs: 60_000 };
/** Bound on tracked IPs, so a flood of spoofed sources cannot grow the map without limit. */
const MAX_TRACKED = 10_000;

interface Window {
  start: number;
  failures: number;
}

/**
 * Security headers, rate limiting of failed authentication per client IP (in memory: one API process), and the
 * portal rule: a role-specific port refuses a token of the other role. Registered before the auth plugin, so
 * a blocked IP is answered 429 before its token is even looked up (a valid guess must look like a wrong one).
 */
export const securityPlugin = fp(async (app: FastifyInstance, opts: { authLimit?: Partial<AuthLimitOptions> }) => {
  const limit = { ...DEFAULT_LIMIT, ...opts.authLimit };
  const windows = new Map<string, Window>();

  const current = (ip: string, now: number): Window | undefined => {
    const w = windows.get(ip);
    if (w && now - w.start >= limit.windowMs) {
      windows.delete(ip);
      return undefined;
    }
    return w;
  };

  app.addHook('onSend', async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    // The codec endpoint is called cross-origin by Temporal Web (CORS decides who may read it there).
    if (reply.hasHeader('access-control-allow-origin')) reply.removeHeader('cross-origin-resource-policy');
    // API answers are per token: never cached by a browser or a shared proxy. Static UI files set their own.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config?.access === 'public') return;
    const now = Date.now();
    const w = current(request.ip, now);
    if (w && w.failures >= limit.maxFailures) {
      const retryAfter = Math.max(1, Math.ceil((w.start + limit.windowMs - now) / 1000));
      return reply
        .status(429)
        .header('retry-after', String(retryAfter))
        .send({ error: 'too_many_requests', message: `too many failed authentications from this address: retry in ${retryAfter} s` });
    }
  });

  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    // Only a presented-and-refused credential counts: a request without one guesses nothing.
    if (reply.statusCode !== 401 || !(request.headers.authorization || /(?:^|;\s*)npanel_token=/.test(request.headers.cookie ?? '')))
      return;
    const now = Date.now();
    const w = current(request.ip, now);
    if (w) w.failures++;
    else {
      if (windows.size >= MAX_TRACKED) windows.delete(windows.keys().next().value!);
      windows.set(request.ip, { start: now, failures: 1 });
    }
  });

  // After auth (onRequest) and before validation: a customer token on an admin port, or an admin token on a
  // customer port, is refused here too, so the separation holds even if the proxy's path rules had a gap.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const portal = request.headers[PORTAL_HEADER];
    const role = request.principal?.role;
    if (!role || (portal !== 'admin' && portal !== 'customer')) return;
    if (portal !== role) throw ApiError.forbidden(`this port is for ${portal === 'admin' ? 'administrators' : 'customers'}`);
  });
});
