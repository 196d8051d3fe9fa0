import { ApplicationFailure, CancellationScope, setHandler } from '@temporalio/workflow';
import { controlPersistentActivities, nodePersistentActivities } from './activity-proxies';
import { removeCertificateInSlot } from './certificate-slot';
import { setPhase } from './phase';
import { progressQuery, StepTracker } from './steps';
import { FAILURE } from '../common/failure-types';

export interface DeprovisionAccountInput {
  username: string;
}

const STEPS = ['lookup', 'mark', 'tokens', 'certificates', 'database', 'ftp', 'mail', 'dns', 'vhost', 'docroot', 'inventory'];

/**
 * Removes an account everywhere. Forward-only: every step is delete-if-present and retried with the long
 * (undo) profile, so a rerun after any failure finishes the job; the audit trail is kept.
 */
export async function deprovisionAccount(input: DeprovisionAccountInput): Promise<{ username: string; removed: true }> {
  const tracker = new StepTracker(STEPS);
  setHandler(progressQuery, () => tracker.snapshot());
  const control = controlPersistentActivities();
  const account = await tracker.run('lookup', () => control.getAccount({ username: input.username }));
  if (!account) throw ApplicationFailure.nonRetryable(`account ${input.username} not found`, FAILURE.AccountNotFound);
  const { domain, node } = account;
  const local = nodePersistentActivities(node);

  const flushAudit = () =>
    control.appendAudit({ workflowType: 'deprovisionAccount', account: account.username, domain, entries: tracker.audit });
  try {
    await tracker.run('mark', () => control.setAccountStatus({ username: account.username, status: 'deprovisioning' }));
    // Before any service goes: the customer is out from the start, and no token outlives the account.
    await tracker.run('tokens', () => control.revokeAccountTokens({ username: account.username }));
    // The certificates go next, under the domain's certificate ID (queued behind a renewal that is still
    // running): no renewal can then re-add the HTTPS block to a vhost being removed. None starts afterwards,
    // since the account is `deprovisioning` now (the renewal's lookup refuses).
    await tracker.run('certificates', () => removeCertificateInSlot(domain, node));
    // allSettled: every removal gets its chance even when one gives up, so a rerun has less left to do.
    const settled = await Promise.allSettled([
      tracker.run('database', () =>
        Promise.all(account.databases.map((d) => local.dropCustomerDatabase({ database: d.name, user: d.user }))),
      ),
      tracker.run('ftp', () => local.removeFtpUser({ username: account.username })),
      tracker.run('mail', () => local.removeMailDomain({ domain })),
      tracker.run('dns', () => control.deleteDnsZone({ domain })),
      tracker.run('vhost', () => local.removeVhost({ domain })),
    ]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await tracker.run('docroot', () => local.removeDocroot({ account: account.username, domain }));
    await tracker.run('inventory', () => control.removeAccountRecords({ username: account.username }));
  } catch (err) {
    // The account stays `deprovisioning` (DELETE may be sent again); the audit trail records how far it got.
    setPhase(tracker, 'failed');
    await CancellationScope.nonCancellable(flushAudit);
    throw err;
  }
  setPhase(tracker, 'completed');
  await flushAudit();
  return { username: account.username, removed: true };
}
