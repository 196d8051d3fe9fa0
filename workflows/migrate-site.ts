import {
  ApplicationFailure,
  CancellationScope,
  defineUpdate,
  executeChild,
  isCancellation,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { DnsRecordSet } from '../activities/dns';
import type { MigrateSiteInput } from '../common/migration-input';
import {
  controlActivities,
  controlPersistentActivities,
  migrationActivities,
  migrationShortActivities,
  nodeActivities,
  nodePersistentActivities,
} from './activity-proxies';
import { OperatorDecision, OperatorGate } from './operator-gate';
import { targetDatabaseName } from '../common/names/database';
import { setPhase } from './phase';
import { provisionAccount } from './provision-account';
import { Saga } from './saga';
import { errorMessage, progressQuery, StepTracker } from './steps';
import { FAILURE, GATE_FATAL_TYPES } from '../common/failure-types';
import { workflowIds } from '../common/workflow-ids';

/** Manual cut-over: the operator's go. Valid only while the workflow waits at the cut-over step. */
export const cutoverUpdate = defineUpdate<{ step: string }, []>('cutover');

export interface MigrateSiteResult {
  domain: string;
  account: string;
  files: number;
  bytes: number;
  databases: { source: string; target: string; tables: number }[];
  mailboxes: string[];
  /** Generated passwords of the mailboxes the request gave none for (encrypted in history by the codec). */
  mailboxPasswords: { mailbox: string; password: string }[];
  refused: { name: string; reason: string }[];
}

const STEPS = ['record', 'preflight', 'account', 'dns-ttl', 'files', 'databases', 'mail', 'verify', 'cutover', 'delta', 'finish'];
/**
 * The zone's record sets with the TTL set to `ttl` and the A records pointed at `ip` (null keeps each as it
 * was): lowering the TTL before the cut-over, pointing at the target at the cut-over, the TTL back up after.
 */
function retargetRecords(records: DnsRecordSet[], ttl: number | null, ip: string | null): DnsRecordSet[] {
  return records.map((r) => ({ ...r, ttl: ttl ?? r.ttl, contents: ip && r.type === 'A' ? [ip] : r.contents }));
}

/**
 * Moves a site from another server onto a node: preflight over SSH → target account (child provisionAccount,
 * its zone still pointing at the source) → lower TTL → files → databases → mail → verify over HTTP on the
 * target → DNS cut-over (auto, or the operator's go) → final delta sync → TTL back up. Any step that exhausts
 * its retries waits at the operator gate. Rollback puts DNS back first (traffic to the source), then removes
 * what this migration made on the target; the source is only ever read.
 */
export async function migrateSite(input: MigrateSiteInput): Promise<MigrateSiteResult> {
  const tracker = new StepTracker(STEPS);
  const gate = new OperatorGate(tracker, GATE_FATAL_TYPES);
  let transfer: Record<string, unknown> | null = null;
  setHandler(progressQuery, () => Object.assign(tracker.snapshot(), { operator: gate.waiting, transfer }));
  let go = false;
  setHandler(cutoverUpdate, () => ((go = true), { step: 'cutover' }), {
    validator: () => {
      if (gate.waiting?.step !== 'cutover') throw new Error('the migration is not waiting for a cut-over go');
    },
  });
  const control = controlActivities();
  const controlPersistent = controlPersistentActivities();
  const node = nodeActivities(input.node);
  const nodePersistent = nodePersistentActivities(input.node);
  const long = migrationActivities(input.node);
  const short = migrationShortActivities(input.node);
  const saga = new Saga(tracker);
  const { domain, account, source: s } = input;
  const src = {
    host: s.host,
    port: s.port,
    user: s.user,
    privateKey: s.privateKey,
    password: s.password,
    hostKeyFingerprint: s.hostKeyFingerprint,
  };
  const lowTtl = input.lowTtl ?? 60;
  let dnsBefore: DnsRecordSet[] | null = null;
  let zoneOurs = false;
  if (s.mailboxes.length === 0) tracker.skip('mail');
  if (s.databases.length === 0) tracker.skip('databases');

  const restoreDns = async () => {
    if (zoneOurs) await controlPersistent.deleteDnsZone({ domain });
    else if (dnsBefore && dnsBefore.length) await controlPersistent.setDnsRecords({ domain, records: dnsBefore });
  };

  try {
    await gate.run('record', () => control.recordMigration({ domain, account, node: input.node, sourceHost: s.host }));
    const pre = await gate.run('preflight', () =>
      short.migrationPreflight({ source: src, docroot: s.docroot, databases: s.databases.map((d) => d.name) }),
    );

    await gate.run('account', async () => {
      const existing = await control.getAccount({ username: account });
      dnsBefore ??= await control.getDnsRecords({ domain });
      if (existing) {
        if (existing.domain !== domain || existing.node !== input.node) {
          throw ApplicationFailure.nonRetryable(
            `account ${account} exists for ${existing.domain} on node ${existing.node}`,
            FAILURE.AccountConflict,
          );
        }
      } else {
        zoneOurs = dnsBefore === null;
        saga.add('account', () => removeAccount(input));
        // The child's zone points at the SOURCE: DNS moves only at cut-over.
        await executeChild(provisionAccount, {
          workflowId: workflowIds.migrationAccount(workflowInfo().workflowId, uuid4().slice(0, 8)),
          args: [{ username: account, domain, node: input.node, nodeIp: s.ip, mailboxes: [], tls: false }],
        });
      }
      if (!(await control.getDnsRecords({ domain }))) {
        zoneOurs = true;
        await control.ensureDnsZone({ domain, ip: s.ip });
      }
    });

    const current = (await control.getDnsRecords({ domain })) ?? [];
    dnsBefore = dnsBefore ?? current;
    await gate.run('dns-ttl', () => control.setDnsRecords({ domain, records: retargetRecords(current, lowTtl, null) }));

    const { path: docroot } = await node.ensureDocroot({ account, domain });
    const files = await gate.run('files', () =>
      long.migrationSyncFiles({ source: src, sourceDocroot: s.docroot, docroot, pass: 'initial', hostKey: pre?.hostKey }),
    );
    if (files) {
      transfer = {
        files: files.totalFiles,
        bytes: files.totalBytes,
        copiedBytes: files.copiedBytes,
        literalBytes: files.literalBytes,
        alreadyPresentBytes: files.alreadyPresentBytes,
        attempt: files.attempt,
        resumedFrom: files.resumedFrom,
        refused: files.refused,
        refusedCount: files.refusedCount,
      };
      await control.updateMigration({ filesCopied: files.totalFiles, bytesCopied: files.totalBytes });
    }

    const databases: MigrateSiteResult['databases'] = [];
    const created = { databases: [] as { name: string; user: string }[], mailboxes: [] as { local: string; password: string }[] };
    // Names are owned: each target name is claimed for the account before its daemon is touched (another
    // account's `eve_shop` fails the step, untouched), and a compensation is added only for what THIS
    // workflow claimed, so a rollback never drops a database or mailbox it did not create.
    const undoable = new Set<string>();
    const claim = async (
      key: string,
      names: { kind: 'database' | 'database_user' | 'mailbox'; name: string }[],
      undo: () => Promise<unknown>,
    ) => {
      const mine = await control.claimNames({ account, names });
      if (mine.length === names.length && !undoable.has(key)) {
        undoable.add(key);
        saga.add(names[0]!.kind === 'mailbox' ? 'mail' : 'databases', async () => {
          await undo();
          await controlPersistent.releaseNames({ account, names });
        });
      }
    };
    for (const d of s.databases) {
      const target = targetDatabaseName(account, d.name);
      const copied = await gate.run('databases', async () => {
        await claim(
          `db:${target}`,
          [
            { kind: 'database', name: target },
            { kind: 'database_user', name: target },
          ],
          () => nodePersistent.dropCustomerDatabase({ database: target, user: target }),
        );
        await node.ensureCustomerDatabase({ database: target, user: target, password: `Mg-${uuid4()}` });
        return long.migrationCopyDatabase({ source: src, database: d.name, targetDatabase: target });
      });
      if (copied) {
        databases.push({ source: d.name, target, tables: copied.tables.length });
        created.databases.push({ name: target, user: target });
      }
    }

    const generated: MigrateSiteResult['mailboxPasswords'] = [];
    for (const m of s.mailboxes) {
      // uuid4() is the workflow's seeded generator: a replay makes the same password.
      const password = m.password ?? `Mb-${uuid4()}`;
      const done = await gate.run(
        'mail',
        async () => {
          await claim(`mail:${m.local}`, [{ kind: 'mailbox', name: `${m.local}@${domain}` }], () =>
            nodePersistent.removeMailbox({ domain, local: m.local }),
          );
          await node.ensureMailDomain({ domain });
          await node.ensureMailbox({ domain, local: m.local, password });
          return long.migrationSyncMaildir({ source: src, maildir: m.maildir, domain, local: m.local, hostKey: pre?.hostKey });
        },
        { skippable: true },
      );
      if (done) {
        created.mailboxes.push({ local: m.local, password });
        if (!m.password) generated.push({ mailbox: `${m.local}@${domain}`, password });
      }
    }
    if (created.databases.length || created.mailboxes.length) await control.recordMigratedResources({ account, domain, ...created });

    await gate.run('verify', () => short.migrationVerifySite({ domain, expectedSha256: files?.index?.sha256 ?? null }));

    if (input.cutover === 'manual')
      await gate.hold('cutover', "manual cut-over: waiting for the operator's go", ['rollback', 'abort'], () => go);
    await gate.run('cutover', () => control.setDnsRecords({ domain, records: retargetRecords(current, lowTtl, input.nodeIp) }));
    await gate.run(
      'delta',
      () => long.migrationSyncFiles({ source: src, sourceDocroot: s.docroot, docroot, pass: 'delta', hostKey: pre?.hostKey }),
      { skippable: true },
    );
    await gate.run('finish', async () => {
      await control.setDnsRecords({ domain, records: retargetRecords(current, null, input.nodeIp) });
      await control.updateMigration({ status: 'completed' });
    });
    gate.closed = true;
    setPhase(tracker, 'completed');
    await flushAudit(tracker, input);
    return {
      domain,
      account,
      files: pre?.files ?? 0,
      bytes: pre?.bytes ?? 0,
      databases,
      mailboxes: created.mailboxes.map((m) => `${m.local}@${domain}`),
      mailboxPasswords: generated,
      refused: files?.refused ?? [],
    };
  } catch (err) {
    gate.closed = true;
    if (err instanceof OperatorDecision && err.action === 'abort') {
      // Abort: stop here, leave everything as it is for a human to inspect (DNS included).
      await CancellationScope.nonCancellable(async () => {
        setPhase(tracker, 'failed');
        await controlPersistent.updateMigration({ status: 'aborted' }).catch(() => undefined);
        await flushAudit(tracker, input);
      });
      throw ApplicationFailure.nonRetryable(`migration of ${domain} aborted by the operator`, FAILURE.MigrationAborted);
    }
    setPhase(tracker, 'rolling_back');
    const failures: string[] = [];
    await CancellationScope.nonCancellable(() => restoreDns().catch((e) => failures.push(`dns: ${errorMessage(e)}`)));
    failures.push(...(await saga.compensate()));
    // The names the API claimed for this migration (domain, databases, mailboxes) go with the rollback, or an
    // account that never came to be would keep them from everybody; a name held before stays held.
    await CancellationScope.nonCancellable(() =>
      controlPersistent.releaseNames({ account }).catch((e) => failures.push(`names: ${errorMessage(e)}`)),
    );
    await CancellationScope.nonCancellable(async () => {
      setPhase(tracker, failures.length ? 'failed' : 'rolled_back');
      await controlPersistent.updateMigration({ status: failures.length ? 'failed' : 'rolled_back' }).catch(() => undefined);
      await flushAudit(tracker, input);
    });
    if (isCancellation(err)) throw err;
    const why = err instanceof OperatorDecision ? "at the operator's request" : errorMessage(err);
    const left = failures.length ? `; undo failed for ${failures.join('; ')}` : '';
    throw ApplicationFailure.nonRetryable(
      `migration of ${domain} rolled back: ${why}${left}`,
      failures.length ? FAILURE.MigrationUndoFailed : FAILURE.MigrationRolledBack,
    );
  }
}

/** The account this migration provisioned, everywhere (its zone is handled by the DNS restore). */
async function removeAccount(input: MigrateSiteInput): Promise<void> {
  const local = nodePersistentActivities(input.node);
  const control = controlPersistentActivities();
  await local.removeMailDomain({ domain: input.domain });
  await local.removeFtpUser({ username: input.account });
  await local.removeVhost({ domain: input.domain });
  await local.removeDocroot({ account: input.account, domain: input.domain });
  await control.removeAccountRecords({ username: input.account });
}

function flushAudit(tracker: StepTracker, input: MigrateSiteInput): Promise<void> {
  return controlPersistentActivities().appendAudit({
    workflowType: 'migrateSite',
    account: input.account,
    domain: input.domain,
    entries: tracker.audit,
  });
}
