import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, setHandler } from '@temporalio/workflow';
import type { ProvisionAccountInput } from '../common/account-input';
import { provisionNames } from '../common/account-names';
import {
  controlActivities,
  controlLocalActivities,
  controlLocalPersistentActivities,
  controlPersistentActivities,
  nodeActivities,
  nodePersistentActivities,
} from './activity-proxies';
import { setPhase } from './phase';
import { issueCertificateInSlot, removeCertificateInSlot } from './certificate-slot';
import { Saga } from './saga';
import { errorMessage, progressQuery, StepTracker } from './steps';
import { FAILURE } from '../common/failure-types';

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
 * Creates a hosting account on one node: all or nothing. After the reservation, the docroot, the web site, DNS,
 * mail and the database run side by side, and FTP (which needs the docroot's path) right after the docroot; every
 * step registers its undo first, and any failure — or a cancel — runs the undos in reverse, so a failed
 * account leaves nothing behind.
 */
/**
 * Creates a hosting account on one node: all or nothing. Every step registers its undo first, and any failure —
 * or a cancel — runs the undos in reverse, so a failed account leaves nothing behind.
 *
 * The shape keeps round trips few (bench/provision.ts measured each choice; CPU per account is the figure that
 * matters, since the Temporal server's work grows with events and workflow tasks):
 * - the inventory steps (reserve, record, release, audit) are local activities: one marker event each, no task
 *   queue round trip, and they run within the workflow task that asked for them;
 * - DNS, mail, the database and the web site (docroot + vhost in one activity) start right after reserve,
 *   side by side; FTP follows the docroot step;
 * - mail is one activity for the domain and all mailboxes;
 * - mail and FTP return the SHA512-crypt hashes they made, and the record step stores those instead of
 *   hashing every password again (the hashes are encrypted in history by the codec, like the passwords);
 * - without TLS the record step also activates the account (nothing runs between them).
 */
export async function provisionAccount(input: ProvisionAccountInput): Promise<ProvisionAccountResult> {
  const { tracker, saga, control, controlUndo, node, nodeUndo } = begin(input);
  const inventory = controlLocalActivities();
  const inventoryPersistent = controlLocalPersistentActivities();
  const { username: account, domain } = input;

  try {
    await reserve(tracker, saga, input, inventory, inventoryPersistent);

    const branches: Promise<unknown>[] = [];
    saga.add('dns', () => controlUndo.deleteDnsZone({ domain }));
    branches.push(tracker.run('dns', () => control.ensureDnsZone({ domain, ip: input.nodeIp })));
    let mailHashes: string[] = [];
    if (input.mailboxes.length > 0) {
      saga.add('mail', () => nodeUndo.removeMailDomain({ domain }));
      branches.push(
        tracker.run('mail', async () => {
          const made = await node.ensureMailboxes({ domain, mailboxes: input.mailboxes });
          mailHashes = made.mailboxes.map((m) => m.passwordHash);
        }),
      );
    }
    if (input.database) {
      const db = input.database;
      saga.add('database', () => nodeUndo.dropCustomerDatabase({ database: db.name, user: db.user }));
      branches.push(
        tracker.run('database', () => node.ensureCustomerDatabase({ database: db.name, user: db.user, password: db.password })),
      );
    }
    // FTP needs the docroot's path, so it follows the docroot step; the vhost makes the docroot itself
    // (ensureSiteVhost: the longest step starts at once instead of one activity round trip later).
    let docroot = '';
    let ftpHash: string | undefined;
    saga.add('docroot', () => nodeUndo.removeDocroot({ account, domain }).catch(ignoreUnsafeDocroot));
    branches.push(
      (async () => {
        docroot = (await tracker.run('docroot', () => node.ensureDocroot({ account, domain }))).path;
        if (!input.ftp) return;
        const ftp = input.ftp;
        saga.add('ftp', () => nodeUndo.removeFtpUser({ username: account }));
        await tracker.run(
          'ftp',
          async () => (ftpHash = (await node.ensureFtpUser({ username: account, password: ftp.password, homeDir: docroot })).passwordHash),
        );
      })(),
    );
    saga.add('vhost', () => nodeUndo.removeVhost({ domain }));
    branches.push(tracker.run('vhost', () => node.ensureSiteVhost({ account, domain })));
    await settleAll(branches);

    const activateNow = !input.tls;
    await tracker.run('record', () =>
      inventory.recordAccount({
        username: account,
        domain,
        docroot,
        mailboxes: input.mailboxes.map((m, i) => ({ local: m.local, passwordHash: mailHashes[i]! })),
        ...(input.ftp ? { ftp: { passwordHash: ftpHash!, homeDir: docroot } } : {}),
        ...(input.database ? { database: { name: input.database.name, user: input.database.user } } : {}),
        ...(activateNow ? { status: 'active' as const } : {}),
      }),
    );
    await certificateStep(tracker, saga, input);
    if (activateNow) tracker.doneWithin('activate', 'record');
    else await tracker.run('activate', () => inventory.setAccountStatus({ username: account, status: 'active' }));
    setPhase(tracker, 'completed');
    await flushAudit(tracker, account, domain, inventoryPersistent);
    return result(input, docroot);
  } catch (err) {
    return rollBack(err, tracker, saga, input, inventoryPersistent);
  }
}

type Inventory = Pick<ReturnType<typeof controlActivities>, 'reserveAccount'>;
type PersistentInventory = Pick<ReturnType<typeof controlPersistentActivities>, 'appendAudit' | 'releaseAccount'>;

/** Progress, saga and the activity proxies of one provisioning (proxies schedule nothing until called). */
function begin(input: ProvisionAccountInput) {
  const tracker = new StepTracker(STEPS);
  setHandler(progressQuery, () => tracker.snapshot());
  if (!input.ftp) tracker.skip('ftp');
  if (!input.database) tracker.skip('database');
  if (input.mailboxes.length === 0) tracker.skip('mail');
  if (!input.tls) tracker.skip('certificate');
  return {
    tracker,
    saga: new Saga(tracker),
    control: controlActivities(),
    controlUndo: controlPersistentActivities(),
    node: nodeActivities(input.node),
    nodeUndo: nodePersistentActivities(input.node),
  };
}

async function reserve(
  tracker: StepTracker,
  saga: Saga,
  input: ProvisionAccountInput,
  inventory: Inventory,
  undo: PersistentInventory,
): Promise<void> {
  const { username, domain } = input;
  // Registered first, so it runs last: by then every other undo has run, and the account row says whether
  // the rollback left the node clean (row deleted) or not (row kept as `failed` for an operator).
  const undoFailed = () => tracker.steps.some((s) => s.status === 'undo_failed');
  saga.add('reserve', () => undo.releaseAccount({ username, status: undoFailed() ? 'failed' : 'rolled_back' }));
  await tracker.run('reserve', () => inventory.reserveAccount({ username, domain, node: input.node, names: provisionNames(input) }));
}

/** Waits for every branch before deciding: a rollback must not race a step that is still creating things. */
async function settleAll(branches: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(branches);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function certificateStep(tracker: StepTracker, saga: Saga, input: ProvisionAccountInput): Promise<void> {
  if (!input.tls) return;
  const { domain } = input;
  // After DNS (the CA resolves the name) and the vhost (it serves the challenge): a child renewCertificate
  // orders the certificate and adds the HTTPS server block. Its undo drops the block, files and row.
  // Both run under the domain's certificate ID, queued behind any other operation of the domain (finding 5 of
  // issue 11: operations that interleaved left nginx serving another pair than the inventory listed).
  saga.add('certificate', () => removeCertificateInSlot(domain, input.node));
  await tracker.run('certificate', () => issueCertificateInSlot(domain));
}

function result(input: ProvisionAccountInput, docroot: string): ProvisionAccountResult {
  return {
    username: input.username,
    domain: input.domain,
    node: input.node,
    docroot,
    mailboxes: input.mailboxes.map((m) => `${m.local}@${input.domain}`),
    ftpUser: input.ftp ? input.username : null,
    database: input.database ? { name: input.database.name, user: input.database.user } : null,
  };
}

/** Any failure, or a cancel: every undo in reverse, the audit, then the failure the caller sees. */
async function rollBack(
  err: unknown,
  tracker: StepTracker,
  saga: Saga,
  input: ProvisionAccountInput,
  audit: PersistentInventory,
): Promise<never> {
  const cancelled = isCancellation(err);
  setPhase(tracker, 'rolling_back');
  const undoFailures = await saga.compensate();
  await CancellationScope.nonCancellable(async () => {
    setPhase(tracker, undoFailures.length ? 'failed' : 'rolled_back');
    await flushAudit(tracker, input.username, input.domain, audit);
  });
  if (cancelled) throw err;
  const reason = errorMessage(err);
  const leftovers = undoFailures.length ? `; undo failed for ${undoFailures.join('; ')}` : '';
  throw ApplicationFailure.nonRetryable(
    `provisioning of ${input.username} rolled back: ${reason}${leftovers}`,
    undoFailures.length ? FAILURE.ProvisionUndoFailed : FAILURE.ProvisionRolledBack,
  );
}

/**
 * removeDocroot refuses (DocrootUnsafe) when the account folder is a symlink or a file. ensureDocroot only
 * ever makes real folders and refuses at that same level, so such a path was never ours: there is nothing of
 * this workflow's to remove, and following the link would delete someone else's files.
 */
function ignoreUnsafeDocroot(err: unknown): void {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === FAILURE.DocrootUnsafe) return;
  throw err;
}

function flushAudit(tracker: StepTracker, account: string, domain: string, audit: PersistentInventory): Promise<void> {
  return audit.appendAudit({ workflowType: 'provisionAccount', account, domain, entries: tracker.audit });
}
