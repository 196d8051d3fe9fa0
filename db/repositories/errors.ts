import type { ClaimKind } from '../../common/account-names';

/**
 * Errors the repositories throw on purpose, and helpers to read driver errors through drizzle's wrapper
 * (drizzle >= 0.44 throws DrizzleQueryError with the mysql2 error as `cause`).
 */

/** The username or domain is held by an account that is not finished; `workflowId` is its last workflow. */
export class AccountConflictError extends Error {
  override name = 'AccountConflictError';
  constructor(
    readonly field: 'username' | 'domain',
    readonly value: string,
    readonly workflowId: string,
    readonly existingUsername: string,
  ) {
    super(`${field} ${value} is already taken by account ${existingUsername} (workflow ${workflowId})`);
  }
}

/** A mailbox, FTP user, database or domain name already belongs to another account. */
export class ResourceConflictError extends Error {
  override name = 'ResourceConflictError';
  constructor(
    readonly kind: 'domain' | 'mailbox' | 'ftp_user' | 'database',
    readonly value: string,
    readonly ownerUsername: string | null,
  ) {
    super(`${kind} ${value} already belongs to ${ownerUsername ? `account ${ownerUsername}` : 'another account'}`);
  }
}

/** The account to attach a resource to does not exist. */
export class AccountNotFoundError extends Error {
  override name = 'AccountNotFoundError';
  constructor(readonly username: string) {
    super(`account ${username} does not exist`);
  }
}

/** mysql2's error code (`ER_DUP_ENTRY`...), looking through drizzle's DrizzleQueryError. */
export function mysqlErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export const isDuplicateKey = (err: unknown) => mysqlErrorCode(err) === 'ER_DUP_ENTRY';

/**
 * DrizzleQueryError's message carries every bound parameter; for writes that bind password hashes, rethrow
 * the driver's own error instead so a hash never reaches a log line.
 */
export function withoutParams(err: unknown): unknown {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error && mysqlErrorCode(cause) ? cause : err;
}

/** An account was reserved on a node that never registered (nodes.upsert runs when a node's worker starts). */
export class NodeNotFoundError extends Error {
  override name = 'NodeNotFoundError';
  constructor(readonly nodeId: string) {
    super(`node ${nodeId} is not registered in the inventory`);
  }
}

/**
 * A name (or, for a domain, a name equal to, above or below it) is claimed by another account. `name` is the
 * requested name; `held` the other account's claim that blocks it (the same name, a parent or a child domain).
 */
export class NameClaimConflictError extends Error {
  override name = 'NameClaimConflictError';
  constructor(
    readonly kind: ClaimKind,
    readonly value: string,
    readonly held: string,
    readonly ownerUsername: string,
  ) {
    super(
      held === value
        ? `${kind} ${value} belongs to account ${ownerUsername}`
        : `${kind} ${value} is inside or above ${held}, which belongs to account ${ownerUsername}`,
    );
  }
}
