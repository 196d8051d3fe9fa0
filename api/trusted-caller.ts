import type { FastifyRequest } from 'fastify';
import type { TokenVerifier } from './auth';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Whether a caller of a public route may see operator detail (/metrics, the readiness checks): a process on
 * this host talking to the API's loopback listener directly (Prometheus, an operator's curl), or a request
 * with an admin bearer token. Through nginx `request.ip` is the client's address (nginx overwrites
 * X-Forwarded-For, which the API trusts from loopback only), so nothing from outside counts as loopback.
 */
export async function isTrustedCaller(request: FastifyRequest, verify: TokenVerifier): Promise<boolean> {
  if (LOOPBACK.has(request.ip)) return true;
  const bearer = /^Bearer ([A-Za-z0-9_-]{8,200})$/.exec(request.headers.authorization ?? '')?.[1];
  if (!bearer) return false;
  return (await verify(bearer))?.role === 'admin';
}
