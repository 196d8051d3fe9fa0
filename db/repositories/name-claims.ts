import { and, eq, inArray, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { nameClaims, type NameKind } from '../schema';
import { isDuplicateKey, mysqlErrorCode, NameClaimConflictError } from './errors';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface NameClaim {
  kind: NameKind;
  name: string;
}

export interface ClaimInput {
  account: string;
  workflowId: string;
  names: NameClaim[];
}

/** `www.shop.alice.test` → `shop.alice.test`, `alice.test` (a TLD alone is never an account's domain). */
function parentDomains(domain: string): string[] {
  const labels = domain.split('.');
  return labels.slice(1, -1).map((_, i) => labels.slice(i + 1).join('.'));
}

/**
 * Domain hierarchy: another account's claim on the same domain, a parent of it or a name inside it. Read FOR
 * UPDATE: InnoDB then locks every domain claim it scans (a suffix LIKE scans the whole `domain` range of the
 * index), so two transactions claiming `alice.test` and `www.alice.test` at once run one after the other and
 * the second sees the first.
 */
async function hierarchyConflict(tx: Db | Tx, account: string, domain: string) {
  const [row] = await tx
    .select({ name: nameClaims.name, account: nameClaims.account })
    .from(nameClaims)
    .where(
      and(
        eq(nameClaims.kind, 'domain'),
        ne(nameClaims.account, account),
        // Domains are LDH only (checked before they get here): no % or _ that LIKE would read as wildcards.
        or(inArray(nameClaims.name, [domain, ...parentDomains(domain)]), sql`${nameClaims.name} LIKE ${`%.${domain}`}`),
      ),
    )
    .limit(1)
    .for('update');
  return row;
}

export function createNameClaimsRepository(db: Db) {
  return {
    /**
     * Claims every name for the account in ONE transaction: all or none. A name the account already holds
     * stays as it is (with the workflow that claimed it first); a name, or for a domain any name above or
     * below it, held by another account throws NameClaimConflictError and nothing is claimed. Returns the
     * names this workflow holds (claimed now or by an earlier try of the same workflow): the only ones its
     * compensation may undo.
     */
    async claim(input: ClaimInput): Promise<NameClaim[]> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.transaction(async (tx) => {
            const mine: NameClaim[] = [];
            for (const { kind, name } of input.names) {
              if (kind === 'domain') {
                const other = await hierarchyConflict(tx, input.account, name);
                if (other) throw new NameClaimConflictError(kind, name, other.name, other.account);
              }
              const [held] = await tx
                .select()
                .from(nameClaims)
                .where(and(eq(nameClaims.kind, kind), eq(nameClaims.name, name)))
                .for('update');
              if (held && held.account !== input.account) throw new NameClaimConflictError(kind, name, name, held.account);
              if (!held) await tx.insert(nameClaims).values({ kind, name, account: input.account, workflowId: input.workflowId });
              if (!held || held.workflowId === input.workflowId) mine.push({ kind, name });
            }
            return mine;
          });
        } catch (err) {
          // The loser of a race on the unique key (or a deadlock between two claims) tries again: it then reads
          // the winner's row and reports the conflict, or finds the name free.
          if (attempt < 3 && (isDuplicateKey(err) || mysqlErrorCode(err) === 'ER_LOCK_DEADLOCK')) continue;
          throw err;
        }
      }
    },

    /** Who holds a name (or, for a domain, a name above or below it) other than `account`; for the API's 409. */
    async conflict(account: string, { kind, name }: NameClaim): Promise<NameClaimConflictError | null> {
      if (kind === 'domain') {
        const other = await hierarchyConflict(db, account, name);
        return other ? new NameClaimConflictError(kind, name, other.name, other.account) : null;
      }
      const [held] = await db
        .select()
        .from(nameClaims)
        .where(and(eq(nameClaims.kind, kind), eq(nameClaims.name, name)));
      return held && held.account !== account ? new NameClaimConflictError(kind, name, name, held.account) : null;
    },

    /** Undo of `claim`: releases only the names THIS workflow claimed (all of them, or those listed). */
    async release(input: { account: string; workflowId: string; names?: NameClaim[] }): Promise<void> {
      const scope = and(eq(nameClaims.account, input.account), eq(nameClaims.workflowId, input.workflowId));
      if (!input.names) {
        await db.delete(nameClaims).where(scope);
        return;
      }
      for (const { kind, name } of input.names) {
        await db.delete(nameClaims).where(and(scope, eq(nameClaims.kind, kind), eq(nameClaims.name, name)));
      }
    },

    async list(account: string) {
      return db.select().from(nameClaims).where(eq(nameClaims.account, account));
    },
  };
}

export type NameClaimsRepository = ReturnType<typeof createNameClaimsRepository>;
