import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Repositories } from '../db/repositories';
import type { AccountStatus } from '../db/schema';
import { sha512CryptMany } from './crypt-hash';

/** One audit row as a workflow records it; the workflow ID is taken from the activity context. */
export interface AuditEntry {
  step: string;
  action: 'do' | 'undo' | 'info';
  outcome: 'ok' | 'failed' | 'skipped';
  at: string;
  details?: Record<string, unknown>;
}

export interface AccountRecord {
  username: string;
  domain: string;
  docroot: string | null;
  mailboxes: { local: string; password: string }[];
  ftp?: { password: string; homeDir: string };
  database?: { name: string; user: string };
}

function workflowId(): string {
  // Activities always run for a workflow here; the ID is the correlation ID of every audit row.
  return Context.current().info.workflowExecution!.workflowId;
}

/**
 * The inventory as workflows see it (control queue: it needs the inventory database, not a node). Every
 * function is idempotent: a retry after a crash re-writes the same rows.
 */
export function createInventoryActivities(repos: Repositories) {
  return {
    /** The API reserved the row before starting the workflow; this confirms it (or reserves it, for retries). */
    async reserveAccount(input: { username: string; domain: string; node: string }): Promise<void> {
      const node = await repos.nodes.get(input.node);
      if (!node) throw ApplicationFailure.nonRetryable(`unknown node ${input.node}`, 'NodeNotFound');
      try {
        await repos.accounts.reserve({ username: input.username, domain: input.domain, nodeId: input.node, workflowId: workflowId() });
      } catch (err) {
        if ((err as Error).name === 'AccountConflictError') throw ApplicationFailure.nonRetryable((err as Error).message, 'AccountConflict');
        throw err;
      }
    },

    async setAccountStatus(input: { username: string; status: AccountStatus }): Promise<void> {
      await repos.accounts.setStatus(input.username, input.status, workflowId());
    },

    /** Records what the account owns once every service has it (passwords stored only as SHA512-crypt hashes). */
    async recordAccount(record: AccountRecord): Promise<void> {
      const u = record.username;
      if (record.docroot) await repos.accounts.recordDomain(u, { name: record.domain, docroot: record.docroot });
      // One openssl for every password: under a burst of accounts, forking the worker costs more than hashing.
      const hashes = await sha512CryptMany([...record.mailboxes.map((m) => m.password), ...(record.ftp ? [record.ftp.password] : [])]);
      for (const [i, m] of record.mailboxes.entries()) {
        await repos.accounts.recordMailbox(u, { address: `${m.local}@${record.domain}`, passwordHash: hashes[i]! });
      }
      if (record.ftp) {
        await repos.accounts.recordFtpUser(u, { username: u, homeDir: record.ftp.homeDir, passwordHash: hashes[record.mailboxes.length]! });
      }
      if (record.database) await repos.accounts.recordDatabase(u, { name: record.database.name, dbUser: record.database.user });
    },

    /**
     * Undo of `reserveAccount`, only if THIS workflow owns the row, so a provisioning that lost a race never
     * touches the account another workflow made. `rolled_back` (every undo succeeded) deletes the row and any
     * resource rows a partly done `recordAccount` left: nothing exists, so the API answers 404 for the
     * username and the audit trail alone tells the story. `failed` (some undo failed, things may be left on
     * the node) keeps the row in that status, so operators see it and can deprovision it.
     */
    async releaseAccount(input: { username: string; status: 'rolled_back' | 'failed' }): Promise<boolean> {
      const row = await repos.accounts.get(input.username);
      if (!row || row.workflowId !== workflowId()) return false;
      if (input.status === 'rolled_back') return repos.accounts.remove(input.username);
      return repos.accounts.setStatus(input.username, input.status, workflowId());
    },

    /** Rolled back or deprovisioned: the rows go (the audit trail keeps the history). */
    async removeAccountRecords(input: { username: string }): Promise<void> {
      await repos.accounts.remove(input.username);
    },

    /** What an existing account owns, for deprovision/suspend: no passwords, only names. */
    async getAccount(input: { username: string }) {
      const res = await repos.accounts.getResources(input.username);
      if (!res) return null;
      return {
        username: res.account.username,
        domain: res.account.domain,
        node: res.account.nodeId,
        status: res.account.status,
        mailboxes: res.mailboxes.map((m) => m.address),
        ftpUsers: res.ftpUsers.map((f) => f.username),
        databases: res.databases.map((d) => ({ name: d.name, user: d.dbUser })),
        domains: res.domains.map((d) => d.name),
      };
    },

    /** Flushes the workflow's audit entries in one call (one activity per step would double the latency). */
    async appendAudit(input: { workflowType: string; account: string; domain: string; entries: AuditEntry[] }): Promise<void> {
      const id = workflowId();
      const already = new Set((await repos.audit.listByWorkflow(id)).map((e) => `${e.step}|${e.action}|${e.outcome}|${new Date(e.at).toISOString()}`));
      for (const e of input.entries) {
        const at = new Date(e.at);
        if (already.has(`${e.step}|${e.action}|${e.outcome}|${at.toISOString()}`)) continue; // a retried flush adds nothing twice
        await repos.audit.append({
          workflowId: id,
          workflowType: input.workflowType,
          step: e.step,
          action: e.action,
          outcome: e.outcome,
          actor: 'workflow',
          account: input.account,
          domain: input.domain,
          details: e.details ?? null,
          at,
        });
      }
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
