import { and, asc, eq, gt, or, type SQL } from 'drizzle-orm';
import type { PageRequest } from '../../common/paging';
import type { Db } from '../client';
import {
  accounts,
  certificates,
  customerDatabases,
  domains,
  FINISHED_ACCOUNT_STATUSES,
  ftpUsers,
  mailboxes,
  nameClaims,
  type AccountRow,
  type AccountStatus,
} from '../schema';
import { createAccountResources, findAccount } from './account-resources';
import { AccountConflictError, isDuplicateKey, mysqlErrorCode, NodeNotFoundError } from './errors';

export interface ReserveInput {
  username: string;
  domain: string;
  nodeId: string;
  workflowId: string;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const isFinished = (status: AccountStatus) => FINISHED_ACCOUNT_STATUSES.includes(status);

export function createAccountsRepository(db: Db) {
  /**
   * Deletes an account and everything it owns, in one transaction, children first (no cascades). Its name
   * claims go too when `claims` is set (deprovisioned, rolled back); `reserve` purging a row a dead workflow
   * left in a finished status keeps them: they are the same username's, and a new workflow may hold some.
   */
  async function purge(account: AccountRow, claims = true): Promise<void> {
    const accountId = account.id;
    await db.transaction(async (tx) => {
      if (claims) await tx.delete(nameClaims).where(eq(nameClaims.account, account.username));
      await tx.delete(domains).where(eq(domains.accountId, accountId));
      await tx.delete(mailboxes).where(eq(mailboxes.accountId, accountId));
      await tx.delete(ftpUsers).where(eq(ftpUsers.accountId, accountId));
      await tx.delete(customerDatabases).where(eq(customerDatabases.accountId, accountId));
      // A certificate may outlive its account (files still on disk until its own cleanup): detach, not delete.
      await tx.update(certificates).set({ accountId: null }).where(eq(certificates.accountId, accountId));
      await tx.delete(accounts).where(eq(accounts.id, accountId));
    });
  }

  /** Accounts that hold this username or domain, as main domain or as an extra domain. */
  async function holders(username: string, domain: string): Promise<AccountRow[]> {
    const direct = await db
      .select()
      .from(accounts)
      .where(or(eq(accounts.username, username), eq(accounts.domain, domain)));
    const viaDomains = await db
      .select({ account: accounts })
      .from(domains)
      .innerJoin(accounts, eq(domains.accountId, accounts.id))
      .where(eq(domains.name, domain));
    const all = [...direct, ...viaDomains.map((r) => r.account)];
    return all.filter((row, i) => all.findIndex((r) => r.id === row.id) === i);
  }

  return {
    /**
     * Claims a username and domain for a provisioning workflow. Idempotent for the same workflow (an activity
     * retry gets the row back); a row in a finished status is purged and its names reused; any other holder
     * means AccountConflictError. The unique keys settle races: the loser of a concurrent insert re-reads and
     * reports the winner.
     */
    async reserve(input: ReserveInput): Promise<AccountRow> {
      for (let attempt = 0; attempt < 3; attempt++) {
        for (const row of await holders(input.username, input.domain)) {
          const mine = row.workflowId === input.workflowId && same(row.username, input.username) && same(row.domain, input.domain);
          if (mine && !isFinished(row.status)) return row;
          if (isFinished(row.status)) {
            await purge(row, false);
            continue;
          }
          const field = same(row.username, input.username) ? 'username' : 'domain';
          throw new AccountConflictError(field, field === 'username' ? input.username : input.domain, row.workflowId, row.username);
        }
        try {
          await db.insert(accounts).values({ ...input, status: 'provisioning' });
          return (await findAccount(db, input.username))!;
        } catch (err) {
          if (mysqlErrorCode(err) === 'ER_NO_REFERENCED_ROW_2') throw new NodeNotFoundError(input.nodeId);
          if (!isDuplicateKey(err)) throw err;
        }
      }
      throw new Error(`could not reserve ${input.username}: the names kept changing hands`);
    },

    async get(username: string): Promise<AccountRow | null> {
      return findAccount(db, username);
    },

    /** One page by username (keyset, common/paging.ts): `limit + 1` rows, never the table. */
    page(filter: { account?: string }, req: PageRequest): Promise<AccountRow[]> {
      const conditions: SQL[] = [];
      if (req.after !== null) conditions.push(gt(accounts.username, req.after));
      if (filter.account !== undefined) conditions.push(eq(accounts.username, filter.account));
      return db
        .select()
        .from(accounts)
        .where(and(...conditions))
        .orderBy(asc(accounts.username))
        .limit(req.limit + 1);
    },

    list(filter: { account?: string; domain?: string; status?: AccountStatus; nodeId?: string } = {}): Promise<AccountRow[]> {
      const conditions: SQL[] = [];
      if (filter.account) conditions.push(eq(accounts.username, filter.account));
      if (filter.domain) conditions.push(eq(accounts.domain, filter.domain));
      if (filter.status) conditions.push(eq(accounts.status, filter.status));
      if (filter.nodeId) conditions.push(eq(accounts.nodeId, filter.nodeId));
      return db
        .select()
        .from(accounts)
        .where(and(...conditions))
        .orderBy(asc(accounts.username));
    },

    /** Returns false when there is no such account. */
    async setStatus(username: string, status: AccountStatus, workflowId: string): Promise<boolean> {
      const [result] = await db.update(accounts).set({ status, workflowId }).where(eq(accounts.username, username));
      return result.affectedRows > 0;
    },

    /** Deletes the account and its domains, mailboxes, FTP users and databases rows. Idempotent. */
    async remove(username: string): Promise<boolean> {
      const account = await findAccount(db, username);
      if (!account) return false;
      await purge(account);
      return true;
    },

    ...createAccountResources(db),
  };
}

export type AccountsRepository = ReturnType<typeof createAccountsRepository>;
