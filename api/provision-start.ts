import type { ProvisionAccountInput } from '../common/account-input';
import { AccountConflictError, ResourceConflictError } from '../db/repositories';
import { ApiError } from './api-error';
import { claimNames, provisionFields, provisionNames } from './name-claims';
import type { AppDeps } from './deps';
import { startWorkflow } from './start-workflow';

/**
 * Reserves the account's names in the inventory for this workflow, then starts provisionAccount. Shared by
 * `POST /api/v1/accounts` and the retry of a failed provisioning, so both claim names the same way: the row is
 * the lock (unique username/domain settle a race in MySQL), and a row a finished attempt left is reused.
 */
export async function reserveAndStartProvision(
  deps: Pick<AppDeps, 'temporal' | 'repos'>,
  input: ProvisionAccountInput,
  workflowId: string,
  memo?: Record<string, unknown>,
): Promise<void> {
  try {
    await deps.repos.accounts.reserve({ username: input.username, domain: input.domain, nodeId: input.node, workflowId });
  } catch (err) {
    if (err instanceof AccountConflictError) {
      throw ApiError.conflict(`${err.field} ${err.value} is taken by account ${err.existingUsername}`, err.workflowId, [
        { field: `body.${err.field}`, message: 'already taken' },
      ]);
    }
    throw err;
  }
  try {
    // Every name, in one transaction, before any daemon: another account's name (or a domain above or below
    // its domain) is a 409 here, so the workflow never starts.
    await claimNames(deps.repos, { account: input.username, workflowId, names: provisionNames(input) }, provisionFields);
  } catch (err) {
    await deps.repos.accounts.remove(input.username).catch(() => undefined);
    throw err;
  }
  if (input.database) {
    // Claimed before any workflow runs: ensureCustomerDatabase is create-if-absent, so without this claim a
    // second account naming the same database would be granted the first one's data (and its rollback
    // would drop it). The unique key on the name settles races between two POSTs.
    try {
      await deps.repos.accounts.recordDatabase(input.username, { name: input.database.name, dbUser: input.database.user });
    } catch (err) {
      await deps.repos.accounts.remove(input.username).catch(() => undefined);
      if (err instanceof ResourceConflictError) {
        throw ApiError.conflict(`database ${input.database.name} belongs to another account`, undefined, [
          { field: 'body.database.name', message: 'already taken' },
        ]);
      }
      throw err;
    }
  }
  try {
    await startWorkflow(deps.temporal, {
      type: 'provisionAccount',
      workflowId,
      args: [input],
      attributes: { account: input.username, domain: input.domain, node: input.node },
      memo,
    });
  } catch (err) {
    await deps.repos.accounts.remove(input.username).catch(() => undefined);
    throw err;
  }
}
