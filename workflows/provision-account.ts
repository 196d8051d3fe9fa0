import { ActivityFailure, ApplicationFailure, CancellationScope, executeChild, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ProvisionAccountInput } from '../common/account-input';
import { CONTROL_TASK_QUEUE } from '../common/constants';
import { workflowIds } from '../common/workflow-ids';
import { controlActivities, controlUndoActivities, nodeActivities, nodeUndoActivities } from './activity-proxies';
import { setPhase } from './phase';
import { renewCertificate } from './renew-certificate';
import { Saga } from './saga';
import { errorMessage, progressQuery, StepTracker } from './steps';

export interface ProvisionAccountResult {
  username: string;
  domain: string;
  node: string;
  docroot: string;
  mailboxes: string[];
  ftpUser: string | null;
  database: { name: string; user: string } | null;
}

const STEPS = ['reserve', 'docroot', 'vhost', 'dns', 'mail', 'ftp', 'database', 'record', 'certificate', 'activate'];

/**
 * Creates a hosting account on one node: all or nothing. Steps after the docroot are independent of each
 * other (vhost, DNS, mail, FTP, database) and run side by side; every step registers its undo first, and any
 * failure — or a cancel — runs the undos in reverse, so a failed account leaves nothing behind.
 */
export async function provisionAccount(input: ProvisionAccountInput): Promise<ProvisionAccountResult> {
  const tracker = new StepTracker(STEPS);
  setHandler(progressQuery, () => tracker.snapshot());
  const control = controlActivities();
  const controlUndo = controlUndoActivities();
  const node = nodeActivities(input.node);
  const nodeUndo = nodeUndoActivities(input.node);
  const saga = new Saga(tracker);
  const { username: account, domain } = input;
  if (!input.ftp) tracker.skip('ftp');
  if (!input.database) tracker.skip('database');
  if (input.mailboxes.length === 0) tracker.skip('mail');
  if (!input.tls) tracker.skip('certificate');

  try {
    // Registered first, so it runs last: by then every other undo has run, and the account row says whether
    // the rollback left the node clean (row deleted) or not (row kept as `failed` for an operator).
    const undoFailed = () => tracker.steps.some((s) => s.status === 'undo_failed');
    saga.add('reserve', () => controlUndo.releaseAccount({ username: account, status: undoFailed() ? 'failed' : 'rolled_back' }));
    await tracker.run('reserve', () => control.reserveAccount({ username: account, domain, node: input.node }));

    saga.add('docroot', () => nodeUndo.removeDocroot({ account, domain }).catch(ignoreUnsafeDocroot));
    const { path: docroot } = await tracker.run('docroot', () => node.ensureDocroot({ account, domain }));

    const branches: Promise<unknown>[] = [];
    saga.add('vhost', () => nodeUndo.removeVhost({ domain }));
    branches.push(tracker.run('vhost', () => node.ensureVhost({ domain, docroot })));
    saga.add('dns', () => controlUndo.deleteDnsZone({ domain }));
    branches.push(tracker.run('dns', () => control.ensureDnsZone({ domain, ip: input.nodeIp })));
    if (input.mailboxes.length > 0) {
      saga.add('mail', () => nodeUndo.removeMailDomain({ domain }));
      branches.push(
        tracker.run('mail', async () => {
          await node.ensureMailDomain({ domain });
          await Promise.all(input.mailboxes.map((m) => node.ensureMailbox({ domain, local: m.local, password: m.password })));
        }),
      );
    }
    if (input.ftp) {
      const ftp = input.ftp;
      saga.add('ftp', () => nodeUndo.removeFtpUser({ username: account }));
      branches.push(tracker.run('ftp', () => node.ensureFtpUser({ username: account, password: ftp.password, homeDir: docroot })));
    }
    if (input.database) {
      const db = input.database;
      saga.add('database', () => nodeUndo.dropCustomerDatabase({ database: db.name, user: db.user }));
      branches.push(tracker.run('database', () => node.ensureCustomerDatabase({ database: db.name, user: db.user, password: db.password })));
    }
    // Wait for every branch before deciding: a rollback must not race a step that is still creating things.
    const settled = await Promise.allSettled(branches);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    await tracker.run('record', () =>
      control.recordAccount({
        username: account,
        domain,
        docroot,
        mailboxes: input.mailboxes,
        ...(input.ftp ? { ftp: { password: input.ftp.password, homeDir: docroot } } : {}),
        ...(input.database ? { database: { name: input.database.name, user: input.database.user } } : {}),
      }),
    );
    if (input.tls) {
      // After DNS (the CA resolves the name) and the vhost (it serves the challenge): a child renewCertificate
      // orders the certificate and adds the HTTPS server block. Its undo drops the block, files and row.
      saga.add('certificate', async () => {
        await nodeUndo.removeCertificates({ domain });
        await controlUndo.forgetCertificate({ domain });
      });
      const unique = workflowInfo().workflowId.split('-').pop()!;
      await tracker.run('certificate', () => executeChild(renewCertificate, { workflowId: workflowIds.renew(domain, unique), taskQueue: CONTROL_TASK_QUEUE, args: [{ domain }] }));
    }
    await tracker.run('activate', () => control.setAccountStatus({ username: account, status: 'active' }));
    setPhase(tracker, 'completed');
    await flushAudit(tracker, account, domain);
    return {
      username: account,
      domain,
      node: input.node,
      docroot,
      mailboxes: input.mailboxes.map((m) => `${m.local}@${domain}`),
      ftpUser: input.ftp ? account : null,
      database: input.database ? { name: input.database.name, user: input.database.user } : null,
    };
  } catch (err) {
    const cancelled = isCancellation(err);
    setPhase(tracker, 'rolling_back');
    const undoFailures = await saga.compensate();
    await CancellationScope.nonCancellable(async () => {
      setPhase(tracker, undoFailures.length ? 'failed' : 'rolled_back');
      await flushAudit(tracker, account, domain);
    });
    if (cancelled) throw err;
    const reason = errorMessage(err);
    const leftovers = undoFailures.length ? `; undo failed for ${undoFailures.join('; ')}` : '';
    throw ApplicationFailure.nonRetryable(`provisioning of ${account} rolled back: ${reason}${leftovers}`, undoFailures.length ? 'ProvisionUndoFailed' : 'ProvisionRolledBack');
  }
}

/**
 * removeDocroot refuses (DocrootUnsafe) when the account folder is a symlink or a file. ensureDocroot only
 * ever makes real folders and refuses at that same level, so such a path was never ours: there is nothing of
 * this workflow's to remove, and following the link would delete someone else's files.
 */
function ignoreUnsafeDocroot(err: unknown): void {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === 'DocrootUnsafe') return;
  throw err;
}

function flushAudit(tracker: StepTracker, account: string, domain: string): Promise<void> {
  return controlUndoActivities().appendAudit({ workflowType: 'provisionAccount', account, domain, entries: tracker.audit });
}
