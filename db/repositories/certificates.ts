import { and, asc, eq, getTableColumns, gt, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { PageRequest } from '../../common/paging';
import type { Db } from '../client';
import { accounts, certificates, domains, type CertificateRow } from '../schema';
import { isDuplicateKey } from './errors';

export interface IssuedCertificate {
  domain: string;
  /** undefined keeps the current owner; null detaches. */
  accountId?: number | null;
  serial: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  certPath: string;
  keyPath: string;
  workflowId: string;
}

export function createCertificatesRepository(db: Db) {
  async function get(domain: string): Promise<CertificateRow | null> {
    const [row] = await db.select().from(certificates).where(eq(certificates.domain, domain)).limit(1);
    return row ?? null;
  }

  /** Inserts, or on a concurrent first insert falls back to updating the row the other writer made. */
  async function insertOrUpdate(
    domain: string,
    insert: typeof certificates.$inferInsert,
    update: Partial<typeof certificates.$inferInsert>,
  ) {
    try {
      await db.insert(certificates).values(insert);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await db.update(certificates).set(update).where(eq(certificates.domain, domain));
    }
  }

  return {
    get,

    /**
     * One page by domain (keyset, common/paging.ts), with the owning account's username joined in: a request
     * reads `limit + 1` rows, never the table. `account` limits it to one account's certificates.
     */
    page(filter: { account?: string }, req: PageRequest): Promise<(CertificateRow & { username: string | null })[]> {
      const conditions: SQL[] = [];
      if (req.after !== null) conditions.push(gt(certificates.domain, req.after));
      if (filter.account !== undefined) conditions.push(eq(accounts.username, filter.account));
      return db
        .select({ ...getTableColumns(certificates), username: accounts.username })
        .from(certificates)
        .leftJoin(accounts, eq(accounts.id, certificates.accountId))
        .where(and(...conditions))
        .orderBy(asc(certificates.domain))
        .limit(req.limit + 1);
    },

    list(filter: { accountId?: number } = {}): Promise<CertificateRow[]> {
      return db
        .select()
        .from(certificates)
        .where(filter.accountId !== undefined ? eq(certificates.accountId, filter.accountId) : undefined)
        .orderBy(asc(certificates.domain));
    },

    /**
     * Records a certificate that is installed and verified. A new serial over an existing one is a renewal
     * (the old serial moves to previous_serial); the same serial again is an activity retry and changes nothing
     * but the workflow ID.
     */
    async recordIssued(input: IssuedCertificate): Promise<CertificateRow> {
      const { workflowId, accountId, ...cert } = input;
      const existing = await get(input.domain);
      const now = new Date();
      if (existing?.serial === input.serial) {
        await db
          .update(certificates)
          .set({ ...cert, lastWorkflowId: workflowId })
          .where(eq(certificates.domain, input.domain));
      } else {
        const fields = {
          ...cert,
          ...(accountId !== undefined ? { accountId } : {}),
          previousSerial: existing?.serial ?? null,
          lastOutcome: existing?.serial ? ('renewed' as const) : ('issued' as const),
          lastError: null,
          lastWorkflowId: workflowId,
          lastRenewedAt: now,
        };
        if (existing) await db.update(certificates).set(fields).where(eq(certificates.domain, input.domain));
        else await insertOrUpdate(input.domain, { ...fields, accountId: accountId ?? null }, fields);
      }
      return (await get(input.domain))!;
    },

    /**
     * Records a failed or rolled-back attempt without touching the certificate fields (the previous certificate
     * is still the one served). A first issuance that failed leaves a row with no serial, which the renewal
     * sweep picks up again.
     */
    async recordFailure(input: {
      domain: string;
      accountId?: number | null;
      outcome: 'failed' | 'rolled_back';
      error: string;
      workflowId: string;
    }): Promise<void> {
      const fields = { lastOutcome: input.outcome, lastError: input.error.slice(0, 60_000), lastWorkflowId: input.workflowId };
      const [result] = await db.update(certificates).set(fields).where(eq(certificates.domain, input.domain));
      if (result.affectedRows === 0) {
        await insertOrUpdate(input.domain, { domain: input.domain, accountId: input.accountId ?? null, ...fields }, fields);
      }
    },

    /**
     * The account (and so the node) that serves `domain`, as its main domain or an extra one; null if no
     * account has it. Renewals are routed to this node's queue.
     */
    async owner(domain: string): Promise<{ accountId: number; username: string; nodeId: string; status: string } | null> {
      const cols = { accountId: accounts.id, username: accounts.username, nodeId: accounts.nodeId, status: accounts.status };
      const [main] = await db.select(cols).from(accounts).where(eq(accounts.domain, domain)).limit(1);
      if (main) return main;
      const [extra] = await db
        .select(cols)
        .from(domains)
        .innerJoin(accounts, eq(domains.accountId, accounts.id))
        .where(eq(domains.name, domain))
        .limit(1);
      return extra ?? null;
    },

    async remove(domain: string): Promise<boolean> {
      const [result] = await db.delete(certificates).where(eq(certificates.domain, domain));
      return result.affectedRows > 0;
    },

    /**
     * One page of the renewal sweep: certificates that expire before `before` (or were never issued), in id
     * order after `afterId`. Paging by id, not offset, stays correct while renewals update rows mid-sweep.
     */
    listExpiring(before: Date, limit: number, afterId = 0): Promise<CertificateRow[]> {
      const due: SQL = or(lt(certificates.notAfter, before), isNull(certificates.notAfter))!;
      return db
        .select()
        .from(certificates)
        .where(and(gt(certificates.id, afterId), due))
        .orderBy(asc(certificates.id))
        .limit(limit);
    },
  };
}

export type CertificatesRepository = ReturnType<typeof createCertificatesRepository>;
