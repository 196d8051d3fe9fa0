import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { NameClaim, Repositories } from '../db/repositories';
import type { AccountStatus } from '../db/schema';
import { FAILURE } from '../common/failure-types';

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
  /** SHA512-crypt hashes the services already made: the record step never sees or hashes a password. */
  mailboxes: { local: string; passwordHash: string }[];
  ftp?: { homeDir: string; passwordHash: string };
  database?: { name: string; user: string };
  /** Also sets the account's status (provisioning without TLS activates in the same step: one round trip less). */
  status?: AccountStatus;
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
    /**
     * The API reserved the row before starting the workflow; this confirms it (or reserves it, for retries)
     * and claims the account's names: a request that raced past the API's check (another account took the
     * domain, a parent or a child of it, a database or login meanwhile) fails here, before any daemon.
     */
    async reserveAccount(input: { username: string; domain: string; node: string; names?: NameClaim[] }): Promise<void> {
      const node = await repos.nodes.get(input.node);
      if (!node) throw ApplicationFailure.nonRetryable(`unknown node ${input.node}`, FAILURE.NodeNotFound);
      try {
        await repos.accounts.reserve({ username: input.username, domain: input.domain, nodeId: input.node, workflowId: workflowId() });
        // `names`: every name of the account (workflows started before it was passed claim the domain only).
        await repos.names.claim({
          account: input.username,
          workflowId: workflowId(),
          names: input.names ?? [{ kind: 'domain', name: input.domain }],
        });
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'AccountConflictError' || name === 'NameClaimConflictError')
          throw ApplicationFailure.nonRetryable((err as Error).message, FAILURE.AccountConflict);
        throw err;
      }
    },

    /**
     * Claims names for the account (one transaction, all or none) and returns those THIS workflow holds: a
     * compensation may undo only these. Another account's name fails the step, non-retryable, untouched.
     */
    async claimNames(input: { account: string; names: NameClaim[] }): Promise<NameClaim[]> {
      try {
        return await repos.names.claim({ account: input.account, workflowId: workflowId(), names: input.names });
      } catch (err) {
        if ((err as Error).name === 'NameClaimConflictError')
          throw ApplicationFailure.nonRetryable((err as Error).message, FAILURE.NameConflict);
        throw err;
      }
    },

    /** Undo of `claimNames`: releases only what this workflow claimed (those names, or without `names` all). */
    async releaseNames(input: { account: string; names?: NameClaim[] }): Promise<void> {
      await repos.names.release({ account: input.account, workflowId: workflowId(), names: input.names });
    },

    async setAccountStatus(input: { username: string; status: AccountStatus }): Promise<void> {
      await repos.accounts.setStatus(input.username, input.status, workflowId());
    },

    /** Records what the account owns once every service has it (passwords stored only as SHA512-crypt hashes). */
    async recordAccount(record: AccountRecord): Promise<void> {
      const u = record.username;
      const { docroot, ftp, database } = record;
      // The rows are independent (each its own unique name): written side by side, ~3 round trips, not ~3 per row.
      // All or nothing still holds: a failure fails the step, and the rollback's releaseAccount removes the rest.
      const writes = await Promise.allSettled([
        docroot ? repos.accounts.recordDomain(u, { name: record.domain, docroot }) : undefined,
        ...record.mailboxes.map((m) =>
          repos.accounts.recordMailbox(u, { address: `${m.local}@${record.domain}`, passwordHash: m.passwordHash }),
        ),
        ftp ? repos.accounts.recordFtpUser(u, { username: u, homeDir: ftp.homeDir, passwordHash: ftp.passwordHash }) : undefined,
        database ? repos.accounts.recordDatabase(u, { name: database.name, dbUser: database.user }) : undefined,
      ]);
      const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed) throw failed.reason;
      // Last, so an account is never `active` with part of its rows missing (a retry re-writes them first).
      if (record.status) await repos.accounts.setStatus(u, record.status, workflowId());
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

    /**
     * Deprovisioning: every token bound to the account is revoked, so none outlives it (the API also refuses a
     * customer token whose account is gone or younger than the token). Idempotent: returns how many were live.
     */
    async revokeAccountTokens(input: { username: string }): Promise<number> {
      return repos.tokens.revokeForAccount(input.username);
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
      const already = new Set(
        (await repos.audit.listByWorkflow(id)).map((e) => `${e.step}|${e.action}|${e.outcome}|${new Date(e.at).toISOString()}`),
      );
      const rows = input.entries
        .map((e) => ({ ...e, at: new Date(e.at) }))
        // A retried flush adds nothing twice.
        .filter((e) => !already.has(`${e.step}|${e.action}|${e.outcome}|${e.at.toISOString()}`))
        .map((e) => ({
          workflowId: id,
          workflowType: input.workflowType,
          step: e.step,
          action: e.action,
          outcome: e.outcome,
          actor: 'workflow',
          account: input.account,
          domain: input.domain,
          details: e.details ?? null,
          at: e.at,
        }));
      // One multi-row INSERT: all rows or none, and one round trip instead of one per step.
      await repos.audit.appendMany(rows);
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
