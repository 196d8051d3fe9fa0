import crypto from 'node:crypto';
import { and, desc, eq, isNull, like } from 'drizzle-orm';
import type { Db } from '../client';
import { accounts, apiTokens, type AccountStatus, type TokenRole } from '../schema';
import { AccountNotFoundError, isDuplicateKey } from './errors';

/** What an authenticated request knows about its token. */
export interface TokenIdentity {
  id: number;
  role: TokenRole;
  account: string | null;
}

/** A token as operators see it: never its hash, only a short fingerprint to tell tokens apart and revoke one. */
export interface TokenInfo extends TokenIdentity {
  label: string | null;
  /** First 12 hex characters of the SHA-256: enough to name a token, useless to forge one. */
  fingerprint: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export const TOKEN_PREFIX = 'npa_';
const FINGERPRINT_LENGTH = 12;
/** Shortest hash prefix `revoke` accepts, so a typo cannot match a token by accident. */
const MIN_REVOKE_PREFIX = 8;
/** last_used_at is a hint for operators, not a log: one write a minute per token keeps reads cheap. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Statuses of an account its customer tokens work for. `deprovisioning` is not one: from the moment removal
 * starts the customer is out (the workflow revokes the tokens too, this holds even for one made meanwhile).
 */
const TOKEN_ACCOUNT_STATUSES: readonly AccountStatus[] = ['provisioning', 'active', 'suspended', 'failed'];

/** A customer token was asked for an account that is being removed. */
export class AccountClosingError extends Error {
  override name = 'AccountClosingError';
  constructor(
    readonly username: string,
    readonly status: AccountStatus,
  ) {
    super(`account ${username} is ${status}: no new tokens for it`);
  }
}

export function hashToken(plain: string): string {
  return crypto.createHash('sha256').update(plain, 'utf8').digest('hex');
}

export function createTokensRepository(db: Db) {
  return {
    /** Makes a token and returns it in plain text; this is the only time it exists outside the caller. */
    async create(input: { role: TokenRole; account?: string | null; label?: string | null }): Promise<{ id: number; token: string }> {
      if (input.role === 'customer') {
        if (!input.account) throw new Error('a customer token needs an account');
        // Only for an account that exists (a finished row, rolled back or deleted, is no account).
        const [account] = await db.select({ status: accounts.status }).from(accounts).where(eq(accounts.username, input.account)).limit(1);
        if (account?.status === 'deprovisioning') throw new AccountClosingError(input.account, account.status);
        if (!account || !TOKEN_ACCOUNT_STATUSES.includes(account.status)) throw new AccountNotFoundError(input.account);
      }
      const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
      const [row] = await db
        .insert(apiTokens)
        .values({ tokenHash: hashToken(token), role: input.role, account: input.account ?? null, label: input.label ?? null })
        .$returningId();
      return { id: row!.id, token };
    },

    /**
     * The identity of a live token, or null. Lookup is by hash, so no secret is compared in user space. A
     * customer token lives only as long as the account it was made for: the account must exist in a working
     * status and be no younger than the token, so a token of a removed account never reads a new account that
     * got the same name (whether or not the removal revoked it).
     */
    async verify(plain: string): Promise<TokenIdentity | null> {
      if (!plain.startsWith(TOKEN_PREFIX)) return null;
      const [row] = await db
        .select({
          id: apiTokens.id,
          role: apiTokens.role,
          account: apiTokens.account,
          lastUsedAt: apiTokens.lastUsedAt,
          createdAt: apiTokens.createdAt,
          accountStatus: accounts.status,
          accountCreatedAt: accounts.createdAt,
        })
        .from(apiTokens)
        .leftJoin(accounts, eq(accounts.username, apiTokens.account))
        .where(and(eq(apiTokens.tokenHash, hashToken(plain)), isNull(apiTokens.revokedAt)))
        .limit(1);
      if (!row) return null;
      if (row.role === 'customer') {
        if (!row.accountStatus || !TOKEN_ACCOUNT_STATUSES.includes(row.accountStatus)) return null;
        if (!row.accountCreatedAt || row.accountCreatedAt.getTime() > row.createdAt.getTime()) return null;
      }
      if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
        await db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, row.id));
      }
      return { id: row.id, role: row.role, account: row.account };
    },

    /** Revokes every live token bound to an account (deprovisioning); returns how many. Idempotent. */
    async revokeForAccount(account: string): Promise<number> {
      const [result] = await db
        .update(apiTokens)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiTokens.account, account), isNull(apiTokens.revokedAt)));
      return result.affectedRows;
    },

    /**
     * Revokes by id (a number, or a string of up to 7 digits), by the plain token itself, or by a fingerprint
     * prefix (>= 8 hex chars, must name exactly one live token). Returns whether a live token was revoked.
     */
    async revoke(idOrPrefix: number | string): Promise<boolean> {
      const where = await resolveToken(db, idOrPrefix);
      const [result] = await db
        .update(apiTokens)
        .set({ revokedAt: new Date() })
        .where(and(where, isNull(apiTokens.revokedAt)));
      return result.affectedRows > 0;
    },

    async list(): Promise<TokenInfo[]> {
      const rows = await db.select().from(apiTokens).orderBy(desc(apiTokens.id));
      return rows.map(({ tokenHash, ...rest }) => ({ ...rest, fingerprint: tokenHash.slice(0, FINGERPRINT_LENGTH) }));
    },

    /**
     * Stores the hash of a given admin token if absent (the dev stack's `.npanel/admin-token`). Idempotent, and
     * it never un-revokes: an operator who revoked the bootstrap token keeps it revoked across restarts.
     */
    async ensureBootstrapAdmin(plain: string): Promise<{ id: number; created: boolean }> {
      if (!plain.startsWith(TOKEN_PREFIX) || plain.length < TOKEN_PREFIX.length + 32) {
        throw new Error(`bootstrap admin token must look like ${TOKEN_PREFIX}<43 base64url chars>`);
      }
      const tokenHash = hashToken(plain);
      const find = () => db.select({ id: apiTokens.id }).from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
      const [existing] = await find();
      if (existing) return { id: existing.id, created: false };
      try {
        const [row] = await db.insert(apiTokens).values({ tokenHash, role: 'admin', label: 'bootstrap admin' }).$returningId();
        return { id: row!.id, created: true };
      } catch (err) {
        // API and worker start together and may both get here: the loser finds the winner's row.
        if (!isDuplicateKey(err)) throw err;
        const [row] = await find();
        return { id: row!.id, created: false };
      }
    },
  };
}

async function resolveToken(db: Db, idOrPrefix: number | string) {
  // Short digit strings are ids; 8+ characters are a fingerprint prefix (which may happen to be all digits).
  if (typeof idOrPrefix === 'number' || /^\d{1,7}$/.test(idOrPrefix)) return eq(apiTokens.id, Number(idOrPrefix));
  if (idOrPrefix.startsWith(TOKEN_PREFIX)) return eq(apiTokens.tokenHash, hashToken(idOrPrefix));
  const prefix = idOrPrefix.toLowerCase();
  if (!/^[0-9a-f]+$/.test(prefix) || prefix.length < MIN_REVOKE_PREFIX) {
    throw new Error(`revoke takes a token id, the token, or at least ${MIN_REVOKE_PREFIX} hex chars of its fingerprint`);
  }
  const matches = await db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(like(apiTokens.tokenHash, `${prefix}%`), isNull(apiTokens.revokedAt)))
    .limit(2);
  if (matches.length > 1) throw new Error(`fingerprint prefix ${prefix} matches more than one token: give more characters`);
  // No match: an id that cannot exist, so revoke() reports false instead of throwing.
  return eq(apiTokens.id, matches[0]?.id ?? 0);
}

export type TokensRepository = ReturnType<typeof createTokensRepository>;
