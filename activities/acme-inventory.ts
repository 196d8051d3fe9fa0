import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Repositories } from '../db/repositories';
import { CERTIFICATE_ACCOUNT_STATUSES, type AccountStatus } from '../db/schema/accounts';
import { requireDomain } from './web-names';
import { FAILURE } from '../common/failure-types';

/** Certificate rows as renewals and the sweep see them (control queue: they need the inventory database). */

function workflowId(): string {
  return Context.current().info.workflowExecution!.workflowId;
}

export interface IssuedCertificateRecord {
  domain: string;
  accountId: number | null;
  serial: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  certPath: string;
  keyPath: string;
}

export function createCertificateInventoryActivities(repos: Repositories) {
  return {
    /** Which account and node serve `domain`: a domain no account has cannot get a certificate. */
    async certificateTarget(input: { domain: string }) {
      const domain = requireDomain(input.domain);
      const owner = await repos.certificates.owner(domain);
      if (!owner) throw ApplicationFailure.nonRetryable(`domain ${domain} belongs to no account`, FAILURE.CertificateDomainUnknown);
      // The API refuses these too; this check holds when a suspension or deprovisioning raced the API's.
      if (!CERTIFICATE_ACCOUNT_STATUSES.includes(owner.status as AccountStatus)) {
        throw ApplicationFailure.nonRetryable(
          `account ${owner.username} is ${owner.status}: no certificate operation for ${domain}`,
          FAILURE.AccountNotActive,
        );
      }
      return { domain, account: owner.username, accountId: owner.accountId, node: owner.nodeId };
    },

    async recordCertificateIssued(input: IssuedCertificateRecord): Promise<{ outcome: string | null }> {
      const row = await repos.certificates.recordIssued({
        ...input,
        domain: requireDomain(input.domain),
        notBefore: new Date(input.notBefore),
        notAfter: new Date(input.notAfter),
        workflowId: workflowId(),
      });
      return { outcome: row.lastOutcome };
    },

    /** A failed (nothing changed) or rolled-back (previous pair served again) attempt, with the reason. */
    async recordCertificateFailure(input: {
      domain: string;
      accountId: number | null;
      outcome: 'failed' | 'rolled_back';
      error: string;
    }): Promise<void> {
      await repos.certificates.recordFailure({ ...input, domain: requireDomain(input.domain), workflowId: workflowId() });
    },

    /** Undo of a first issuance: the row goes (the audit trail keeps its history). */
    async forgetCertificate(input: { domain: string }): Promise<boolean> {
      return repos.certificates.remove(requireDomain(input.domain));
    },

    /**
     * One page of due certificates (expiring before `before`, or never issued), only id and domain: a page of
     * 500 stays a few KB in history, which is what keeps a 10,000-record sweep's runs small.
     */
    async listDueCertificates(input: {
      before: string;
      afterId: number;
      limit: number;
    }): Promise<{ items: { id: number; domain: string }[] }> {
      const rows = await repos.certificates.listExpiring(new Date(input.before), Math.min(Math.max(input.limit, 1), 1000), input.afterId);
      return { items: rows.map((r) => ({ id: r.id, domain: r.domain })) };
    },
  };
}

export type CertificateInventoryActivities = ReturnType<typeof createCertificateInventoryActivities>;
