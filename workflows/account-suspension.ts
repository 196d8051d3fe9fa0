import { ApplicationFailure } from '@temporalio/workflow';
import { controlActivities, controlPersistentActivities, nodeActivities, nodePersistentActivities } from './activity-proxies';
import { setPhase } from './phase';
import { Saga } from './saga';
import { errorMessage, StepTracker } from './steps';
import { FAILURE } from '../common/failure-types';

/**
 * Shared body of suspend and unsuspend: flips the vhost (suspended page), FTP login, mail login and database
 * logins of an account, all or nothing (a failure flips back what was already flipped).
 */
export async function setAccountSuspended(tracker: StepTracker, username: string, suspended: boolean, workflowType: string): Promise<void> {
  const control = controlActivities();
  const bookkeeping = controlPersistentActivities();
  const account = await tracker.run('lookup', () => control.getAccount({ username }));
  if (!account) throw ApplicationFailure.nonRetryable(`account ${username} not found`, FAILURE.AccountNotFound);
  // From `from` to `to`; an account already at `to` is flipped again (idempotent: a retried run ends the same).
  const from = suspended ? 'active' : 'suspended';
  const to = suspended ? 'suspended' : 'active';
  if (account.status !== from && account.status !== to) {
    throw ApplicationFailure.nonRetryable(`account ${username} is ${account.status}, not ${from}`, FAILURE.AccountStateInvalid);
  }
  const { domain, node } = account;
  const local = nodeActivities(node);
  const localUndo = nodePersistentActivities(node);
  const saga = new Saga(tracker);
  try {
    saga.add('vhost', () => localUndo.setVhostSuspended({ domain, suspended: !suspended }));
    saga.add('ftp', () => localUndo.setFtpUserSuspended({ username, suspended: !suspended }));
    saga.add('mail', () => localUndo.setMailDomainSuspended({ domain, suspended: !suspended }));
    saga.add('database', () =>
      Promise.all(account.databases.map((d) => localUndo.setCustomerDatabaseLocked({ user: d.user, locked: !suspended }))),
    );
    const settled = await Promise.allSettled([
      tracker.run('vhost', () => local.setVhostSuspended({ domain, suspended })),
      tracker.run('ftp', () => local.setFtpUserSuspended({ username, suspended })),
      tracker.run('mail', () => local.setMailDomainSuspended({ domain, suspended })),
      tracker.run('database', () =>
        Promise.all(account.databases.map((d) => local.setCustomerDatabaseLocked({ user: d.user, locked: suspended }))),
      ),
    ]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await tracker.run('status', () => control.setAccountStatus({ username, status: to }));
    setPhase(tracker, 'completed');
  } catch (err) {
    setPhase(tracker, 'rolling_back');
    await saga.compensate();
    setPhase(tracker, 'rolled_back');
    await bookkeeping.appendAudit({ workflowType, account: username, domain, entries: tracker.audit });
    throw ApplicationFailure.nonRetryable(`${workflowType} of ${username} rolled back: ${errorMessage(err)}`, FAILURE.SuspensionRolledBack);
  }
  await bookkeeping.appendAudit({ workflowType, account: username, domain, entries: tracker.audit });
}
