import { Context } from '@temporalio/activity';
import type { Repositories } from '../db/repositories';
import { sha512Crypt } from './crypt-hash';

/**
 * The inventory's view of a migration (control queue): one `migrations` row per workflow, kept current with
 * status and copy totals, plus the databases and mailboxes the migration added to the target account.
 */
export function createMigrationInventoryActivities(repos: Repositories) {
  const workflowId = () => Context.current().info.workflowExecution!.workflowId;
  return {
    async recordMigration(input: { domain: string; account: string; node: string; sourceHost: string }): Promise<void> {
      await repos.migrations.create({
        workflowId: workflowId(),
        domain: input.domain,
        account: input.account,
        nodeId: input.node,
        sourceHost: input.sourceHost,
      });
    },

    async updateMigration(input: { status?: string; filesCopied?: number; bytesCopied?: number }): Promise<void> {
      await repos.migrations.update(workflowId(), input);
    },

    /** Adds what the migration created on an account (provisioned or existing); passwords only as hashes. */
    async recordMigratedResources(input: {
      account: string;
      domain: string;
      databases: { name: string; user: string }[];
      mailboxes: { local: string; password: string }[];
    }) {
      for (const d of input.databases) await repos.accounts.recordDatabase(input.account, { name: d.name, dbUser: d.user });
      for (const m of input.mailboxes) {
        await repos.accounts.recordMailbox(input.account, {
          address: `${m.local}@${input.domain}`,
          passwordHash: await sha512Crypt(m.password),
        });
      }
    },
  };
}
