import { and, asc, eq } from 'drizzle-orm';
import type { ResultSetHeader } from 'mysql2';
import type { Db } from '../client';
import {
  accounts,
  certificates,
  customerDatabases,
  domains,
  ftpUsers,
  mailboxes,
  type AccountRow,
  type CertificateRow,
  type CustomerDatabaseRow,
  type DomainRow,
  type FtpUserRow,
  type MailboxRow,
} from '../schema';
import { AccountNotFoundError, isDuplicateKey, ResourceConflictError, withoutParams } from './errors';

/** `$6$[rounds=N$]salt$hash`: SHA512-crypt, what Dovecot and Pure-FTPd read. Anything else is refused. */
const SHA512_CRYPT = /^\$6\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/;

function assertCryptHash(hash: string): void {
  if (!SHA512_CRYPT.test(hash)) throw new Error('password_hash must be a SHA512-crypt ($6$) hash, never a plain password');
}

export interface AccountResources {
  account: AccountRow;
  domains: DomainRow[];
  mailboxes: MailboxRow[];
  ftpUsers: FtpUserRow[];
  databases: CustomerDatabaseRow[];
  certificates: CertificateRow[];
}

export async function findAccount(db: Db, username: string): Promise<AccountRow | null> {
  const [row] = await db.select().from(accounts).where(eq(accounts.username, username)).limit(1);
  return row ?? null;
}

async function requireAccount(db: Db, username: string): Promise<AccountRow> {
  const account = await findAccount(db, username);
  if (!account) throw new AccountNotFoundError(username);
  return account;
}

/**
 * Create-if-absent for a row an account owns, keyed by a globally unique name. A row already owned by the same
 * account is updated (an activity retry, or a password change); one owned by another account is a conflict.
 * The unique key settles a race between two inserts: the loser looks again.
 */
async function claim(
  db: Db,
  kind: ResourceConflictError['kind'],
  value: string,
  accountId: number,
  ops: { owner: () => Promise<number | undefined>; insert: () => Promise<unknown>; update: () => Promise<unknown> },
): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const owner = await ops.owner();
    if (owner !== undefined && owner !== accountId) {
      const [other] = await db.select({ username: accounts.username }).from(accounts).where(eq(accounts.id, owner));
      throw new ResourceConflictError(kind, value, other?.username ?? null);
    }
    try {
      await (owner === undefined ? ops.insert() : ops.update());
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw withoutParams(err);
    }
  }
  throw new ResourceConflictError(kind, value, null);
}

/** Delete-if-present, scoped to the account so one account can never remove another's row. */
async function removeOwned(db: Db, username: string, del: (accountId: number) => Promise<[ResultSetHeader, unknown]>): Promise<boolean> {
  const account = await findAccount(db, username);
  if (!account) return false;
  const [result] = await del(account.id);
  return result.affectedRows > 0;
}

export function createAccountResources(db: Db) {
  const ownerOf = async (rows: Promise<Array<{ accountId: number }>>) => (await rows)[0]?.accountId;

  return {
    async recordDomain(username: string, input: { name: string; docroot: string }): Promise<void> {
      const { id } = await requireAccount(db, username);
      await claim(db, 'domain', input.name, id, {
        owner: () => ownerOf(db.select({ accountId: domains.accountId }).from(domains).where(eq(domains.name, input.name))),
        insert: () => db.insert(domains).values({ accountId: id, ...input }),
        update: () => db.update(domains).set({ docroot: input.docroot }).where(eq(domains.name, input.name)),
      });
    },
    async removeDomain(username: string, name: string): Promise<boolean> {
      return removeOwned(db, username, (accountId) =>
        db.delete(domains).where(and(eq(domains.name, name), eq(domains.accountId, accountId))),
      );
    },

    async recordMailbox(username: string, input: { address: string; passwordHash: string }): Promise<void> {
      assertCryptHash(input.passwordHash);
      const { id } = await requireAccount(db, username);
      await claim(db, 'mailbox', input.address, id, {
        owner: () => ownerOf(db.select({ accountId: mailboxes.accountId }).from(mailboxes).where(eq(mailboxes.address, input.address))),
        insert: () => db.insert(mailboxes).values({ accountId: id, ...input }),
        update: () => db.update(mailboxes).set({ passwordHash: input.passwordHash }).where(eq(mailboxes.address, input.address)),
      });
    },
    async removeMailbox(username: string, address: string): Promise<boolean> {
      return removeOwned(db, username, (accountId) =>
        db.delete(mailboxes).where(and(eq(mailboxes.address, address), eq(mailboxes.accountId, accountId))),
      );
    },

    async recordFtpUser(username: string, input: { username: string; homeDir: string; passwordHash: string }): Promise<void> {
      assertCryptHash(input.passwordHash);
      const { id } = await requireAccount(db, username);
      await claim(db, 'ftp_user', input.username, id, {
        owner: () => ownerOf(db.select({ accountId: ftpUsers.accountId }).from(ftpUsers).where(eq(ftpUsers.username, input.username))),
        insert: () => db.insert(ftpUsers).values({ accountId: id, ...input }),
        update: () =>
          db
            .update(ftpUsers)
            .set({ homeDir: input.homeDir, passwordHash: input.passwordHash })
            .where(eq(ftpUsers.username, input.username)),
      });
    },
    async removeFtpUser(username: string, ftpUsername: string): Promise<boolean> {
      return removeOwned(db, username, (accountId) =>
        db.delete(ftpUsers).where(and(eq(ftpUsers.username, ftpUsername), eq(ftpUsers.accountId, accountId))),
      );
    },

    async recordDatabase(username: string, input: { name: string; dbUser: string }): Promise<void> {
      const { id } = await requireAccount(db, username);
      await claim(db, 'database', input.name, id, {
        owner: () =>
          ownerOf(
            db.select({ accountId: customerDatabases.accountId }).from(customerDatabases).where(eq(customerDatabases.name, input.name)),
          ),
        insert: () => db.insert(customerDatabases).values({ accountId: id, ...input }),
        update: () => db.update(customerDatabases).set({ dbUser: input.dbUser }).where(eq(customerDatabases.name, input.name)),
      });
    },
    async removeDatabase(username: string, name: string): Promise<boolean> {
      return removeOwned(db, username, (accountId) =>
        db.delete(customerDatabases).where(and(eq(customerDatabases.name, name), eq(customerDatabases.accountId, accountId))),
      );
    },

    /** Everything the account owns (what deprovisioning must undo), or null when there is no such account. */
    async getResources(username: string): Promise<AccountResources | null> {
      const account = await findAccount(db, username);
      if (!account) return null;
      const byAccount = account.id;
      const [d, m, f, c, certs] = await Promise.all([
        db.select().from(domains).where(eq(domains.accountId, byAccount)).orderBy(asc(domains.name)),
        db.select().from(mailboxes).where(eq(mailboxes.accountId, byAccount)).orderBy(asc(mailboxes.address)),
        db.select().from(ftpUsers).where(eq(ftpUsers.accountId, byAccount)).orderBy(asc(ftpUsers.username)),
        db.select().from(customerDatabases).where(eq(customerDatabases.accountId, byAccount)).orderBy(asc(customerDatabases.name)),
        db.select().from(certificates).where(eq(certificates.accountId, byAccount)).orderBy(asc(certificates.domain)),
      ]);
      return { account, domains: d, mailboxes: m, ftpUsers: f, databases: c, certificates: certs };
    },
  };
}
