import { hashToken } from '../db/repositories/tokens';
import type { Principal, TokenVerifier } from './auth';

export type CachedTokenVerifier = TokenVerifier & {
  /** Drops every remembered token: the revoke route calls it, so a revocation through the API is immediate. */
  forgetAll(): void;
  /**
   * Drops the remembered tokens of one account and, for `fenceMs`, remembers none of its tokens (each is looked
   * up): the deprovision route calls it, so the revocation the workflow makes a moment later holds at once.
   */
  forgetAccount(account: string): void;
};

interface Entry {
  at: number;
  principal: Promise<Principal | null>;
  /** The principal's account once the lookup answered (undefined before, null for admin tokens). */
  account?: string | null;
}

/**
 * Remembers a verified token for `ttlMs` (1 s). Without it every request costs an inventory query (drizzle
 * builds it, mysql2 sends it, MariaDB answers), which under a burst of list requests is most of the API's
 * CPU per request (profiled in bench/api.ts). Only known tokens are remembered: an unknown or revoked one
 * is looked up every time (once per burst of simultaneous requests) (and counted by the failed-auth limiter).
 * A revocation made through this API clears the cache at once (a token's, or an account's on deprovisioning);
 * one made elsewhere (`npanel token revoke` on the shell) takes effect within `ttlMs`. Keys are the token's
 * sha256, so no plain token is kept beyond its request.
 */
export function cachedTokenVerifier(verify: TokenVerifier, ttlMs = 1000, maxEntries = 1000, fenceMs = 60_000): CachedTokenVerifier {
  // Each entry is the lookup's promise: requests that arrive together while a token is not remembered share
  // one query instead of queueing one each on the pool.
  const entries = new Map<string, Entry>();
  /** Accounts being removed → until when their tokens are never served from memory. */
  const fenced = new Map<string, number>();
  const isFenced = (account: string | null | undefined) => {
    if (!account) return false;
    const until = fenced.get(account);
    if (until !== undefined && Date.now() >= until) fenced.delete(account);
    return until !== undefined && Date.now() < until;
  };
  const cached = ((plain: string) => {
    const key = hashToken(plain);
    const hit = entries.get(key);
    if (hit && Date.now() - hit.at < ttlMs && !isFenced(hit.account)) return hit.principal;
    const entry: Entry = { at: Date.now(), principal: verify(plain) };
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    const drop = () => entries.get(key) === entry && entries.delete(key);
    entry.principal.then((p) => {
      entry.account = p?.account ?? null;
      // A lookup that started before the fence may answer after it: never keep that answer either.
      if (p === null || isFenced(entry.account)) drop();
    }, drop);
    return entry.principal;
  }) as CachedTokenVerifier;
  cached.forgetAll = () => entries.clear();
  cached.forgetAccount = (account: string) => {
    fenced.set(account, Date.now() + fenceMs);
    for (const [key, entry] of entries) if (entry.account === account || entry.account === undefined) entries.delete(key);
  };
  return cached;
}
