import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from './api-error';
import { bearerFromCookie, cookieAllowedFor } from './session-cookie';

export type Role = 'admin' | 'customer';

export interface Principal {
  tokenId: number;
  role: Role;
  /** The only account a customer token may see; null for admins. */
  account: string | null;
}

/**
 * Looks a plain bearer token up (by its hash) and returns who it is, or null. A verifier that remembers
 * answers (api/token-cache.ts) has `forgetAll`, which the revoke route calls.
 */
export type TokenVerifier = ((plain: string) => Promise<Principal | null>) & {
  forgetAll?: () => void;
  /** Drops what is remembered of an account's tokens and checks them afresh for a while (deprovisioning). */
  forgetAccount?: (account: string) => void;
};

/** Per-route access: `public` (no token), `any` (admin or customer), `admin`. Default: `any`. */
export type Access = 'public' | 'any' | 'admin';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{8,200})$/;

/**
 * Bearer-token authentication and role checks for every route, enforced in the API itself (the nginx ports
 * separate portals too, but are not the only gate).
 */
export const authPlugin = fp(async (app: FastifyInstance, opts: { verify: TokenVerifier }) => {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const access: Access = request.routeOptions.config?.access ?? 'any';
    if (access === 'public' || !request.routeOptions.url) return;
    // The cookie counts only on the codec routes (api/session-cookie.ts); a state-changing request carrying it
    // has already passed the same-origin check (api/csrf.ts).
    const header =
      request.headers.authorization ?? (cookieAllowedFor(request.routeOptions.url) ? bearerFromCookie(request.headers.cookie) : undefined);
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!match) throw new ApiError(401, 'unauthorized', 'a bearer token is required (Authorization: Bearer <token>)');
    const principal = await opts.verify(match[1]!);
    if (!principal) throw new ApiError(401, 'unauthorized', 'the token is unknown or revoked');
    request.principal = principal;
    if (access === 'admin' && principal.role !== 'admin') throw ApiError.forbidden('this route is for administrators');
  });
});

/** For handlers: the account a customer is bound to, or undefined for an admin (who sees everything). */
export function accountScope(request: FastifyRequest): string | undefined {
  const p = request.principal;
  if (!p || p.role === 'admin') return undefined;
  return p.account ?? '\u0000no-account';
}
