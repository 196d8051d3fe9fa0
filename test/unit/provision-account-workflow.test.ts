import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ProvisionAccountInput } from '../../common/account-input';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import type { ProvisionAccountResult } from '../../workflows/provision-account';
import type { Progress } from '../../workflows/steps';
import { until } from '../support/poll';
import { createTestEnv, FakeActivities, withWorkers } from '../support/workflow-env';
import { fullProvisionInput, provisioningFake, provisioningImpls } from '../support/workflow-fakes';

/**
 * provisionAccount's all-or-nothing logic, step by step, without daemons: each step's activity fails in turn,
 * and every undo registered before it must run, in reverse, and the caller must see ProvisionRolledBack.
 * (What the daemons hold after a real rollback is checked in test/integration/account-rollback.serial.test.ts.)
 */

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createTestEnv();
});
after(async () => {
  await env?.teardown();
});

let seq = 0;
async function provision(
  fake: FakeActivities,
  input: ProvisionAccountInput,
  whileRunning: (h: WorkflowHandle) => Promise<void> = async () => {},
) {
  return withWorkers(env, fake, async () => {
    const handle = await env.client.workflow.start('provisionAccount', {
      taskQueue: CONTROL_TASK_QUEUE,
      workflowId: `provision-test-${++seq}`,
      args: [input],
    });
    await whileRunning(handle);
    let outcome: { result?: ProvisionAccountResult; error?: unknown };
    try {
      outcome = { result: (await handle.result()) as ProvisionAccountResult };
    } catch (error) {
      outcome = { error };
    }
    const progress = await handle.query<Progress>('progress');
    return { ...outcome, progress };
  });
}

function failureOf(outcome: { error?: unknown }): ApplicationFailure {
  assert.ok(outcome.error instanceof WorkflowFailedError, `the workflow failed (got ${String(outcome.error)})`);
  assert.ok(outcome.error.cause instanceof ApplicationFailure, 'with an application failure');
  return outcome.error.cause;
}

const UNDO_ACTIVITIES = new Set([
  'releaseAccount',
  'deleteDnsZone',
  'removeMailDomain',
  'dropCustomerDatabase',
  'removeDocroot',
  'removeFtpUser',
  'removeVhost',
  'removeCertificates',
  'forgetCertificate',
]);
const undos = (fake: FakeActivities) => fake.names().filter((n) => UNDO_ACTIVITIES.has(n));

/** Everything but the certificate, newest first: the undos of a failure after the side-by-side steps. */
const AFTER_BRANCHES = [
  'removeFtpUser',
  'removeVhost',
  'removeDocroot',
  'dropCustomerDatabase',
  'removeMailDomain',
  'deleteDnsZone',
  'releaseAccount',
];

/** step → the activity that fails in it, and the undos that must follow, in order. */
const CASES: { step: string; activity: string; undos: string[] }[] = [
  { step: 'reserve', activity: 'reserveAccount', undos: ['releaseAccount'] },
  { step: 'dns', activity: 'ensureDnsZone', undos: AFTER_BRANCHES },
  { step: 'mail', activity: 'ensureMailboxes', undos: AFTER_BRANCHES },
  { step: 'database', activity: 'ensureCustomerDatabase', undos: AFTER_BRANCHES },
  // FTP follows the docroot: a failed docroot means no FTP user was ever asked for, so none is removed.
  { step: 'docroot', activity: 'ensureDocroot', undos: AFTER_BRANCHES.filter((u) => u !== 'removeFtpUser') },
  { step: 'vhost', activity: 'ensureSiteVhost', undos: AFTER_BRANCHES },
  { step: 'ftp', activity: 'ensureFtpUser', undos: AFTER_BRANCHES },
  { step: 'record', activity: 'recordAccount', undos: AFTER_BRANCHES },
  { step: 'certificate', activity: 'orderCertificate', undos: ['removeCertificates', 'forgetCertificate', ...AFTER_BRANCHES] },
  { step: 'activate', activity: 'setAccountStatus', undos: ['removeCertificates', 'forgetCertificate', ...AFTER_BRANCHES] },
];

describe('provisionAccount (TestWorkflowEnvironment, fake activities)', () => {
  test('every step done once, nothing undone, the result names what was made', async () => {
    const fake = provisioningFake();
    const out = await provision(fake, fullProvisionInput());
    assert.ok(out.result, `completed (got ${String(out.error)})`);
    assert.deepEqual(out.result, {
      username: 'alice',
      domain: 'alice.test',
      node: 'n1',
      docroot: '/srv/www/alice/alice.test',
      mailboxes: ['info@alice.test'],
      ftpUser: 'alice',
      database: { name: 'alice_shop', user: 'alice_shop' },
    });
    assert.deepEqual(undos(fake), []);
    for (const name of [
      'reserveAccount',
      'ensureDnsZone',
      'ensureMailboxes',
      'ensureCustomerDatabase',
      'ensureDocroot',
      'ensureFtpUser',
      'ensureSiteVhost',
      'recordAccount',
      'orderCertificate',
      'setAccountStatus',
    ]) {
      assert.equal(fake.called(name).length, 1, `${name} called once`);
    }
    // FTP's home is the docroot the docroot step returned; the record stores the hashes mail and FTP made.
    assert.equal(fake.called('ensureFtpUser')[0]!.arg.homeDir, '/srv/www/alice/alice.test');
    const record = fake.called('recordAccount')[0]!.arg;
    assert.deepEqual(record.mailboxes, [{ local: 'info', passwordHash: '$6$fake$info' }]);
    assert.deepEqual(record.ftp, { passwordHash: '$6$fake$ftp', homeDir: '/srv/www/alice/alice.test' });
    assert.equal(record.status, undefined, 'with TLS the account turns active only after the certificate');
    assert.deepEqual(fake.called('setAccountStatus')[0]!.arg, { username: 'alice', status: 'active' });
    assert.equal(out.progress.phase, 'completed');
    assert.ok(
      out.progress.steps.every((s) => s.status === 'done'),
      JSON.stringify(out.progress.steps),
    );
  });

  test('without TLS the record step activates the account and optional steps are skipped', async () => {
    const fake = provisioningFake();
    const out = await provision(fake, fullProvisionInput({ tls: false, mailboxes: [], ftp: undefined, database: undefined }));
    assert.ok(out.result, `completed (got ${String(out.error)})`);
    assert.equal(fake.called('recordAccount')[0]!.arg.status, 'active');
    for (const name of ['setAccountStatus', 'ensureMailboxes', 'ensureFtpUser', 'ensureCustomerDatabase', 'orderCertificate']) {
      assert.equal(fake.called(name).length, 0, `${name} not called`);
    }
    const status = Object.fromEntries(out.progress.steps.map((s) => [s.name, s.status]));
    assert.deepEqual(status, {
      reserve: 'done',
      docroot: 'done',
      vhost: 'done',
      dns: 'done',
      mail: 'skipped',
      ftp: 'skipped',
      database: 'skipped',
      record: 'done',
      certificate: 'skipped',
      activate: 'done',
    });
  });

  for (const c of CASES) {
    test(`${c.step} fails: every earlier undo runs in reverse, the account is released, ProvisionRolledBack`, async () => {
      const fake = provisioningFake().failAt(c.activity, { type: 'InjectedFault' });
      const out = await provision(fake, fullProvisionInput());
      const failure = failureOf(out);
      assert.equal(failure.type, 'ProvisionRolledBack');
      assert.match(failure.message, new RegExp(`^provisioning of alice rolled back: .*injected InjectedFault in ${c.activity}$`));
      assert.deepEqual(undos(fake), c.undos);
      assert.deepEqual(fake.called('releaseAccount')[0]!.arg, { username: 'alice', status: 'rolled_back' });
      assert.equal(out.progress.phase, 'rolled_back');
      // The failed step's own undo runs too (it may have done part of its work; undos are delete-if-present):
      // only record and activate, which have none of their own, stay `failed`.
      const noUndo = c.step === 'record' || c.step === 'activate';
      assert.equal(out.progress.steps.find((s) => s.name === c.step)?.status, noUndo ? 'failed' : 'undone');
      // The provisioning's audit is written once, after the rollback.
      assert.equal(fake.called('appendAudit').filter((a) => a.arg.workflowType === 'provisionAccount').length, 1);
    });
  }

  test('a service failing over and over: the step retries 5 times, then the account rolls back', async () => {
    const fake = provisioningFake().failAt('ensureSiteVhost');
    const out = await provision(fake, fullProvisionInput({ tls: false }));
    assert.equal(failureOf(out).type, 'ProvisionRolledBack');
    assert.equal(fake.called('ensureSiteVhost').length, 5, 'forward retry profile: 5 attempts');
    assert.deepEqual(undos(fake), AFTER_BRANCHES);
  });

  test('a step that fails once and then works does not roll back', async () => {
    const fake = provisioningFake().failAt('ensureDnsZone', { times: 1 });
    const out = await provision(fake, fullProvisionInput({ tls: false }));
    assert.ok(out.result, `completed (got ${String(out.error)})`);
    assert.equal(fake.called('ensureDnsZone').length, 2);
    assert.deepEqual(undos(fake), []);
  });

  test('an undo that fails: the other undos still run, the row stays as failed, ProvisionUndoFailed', async () => {
    const fake = provisioningFake().failAt('recordAccount', { type: 'InjectedFault' }).failAt('removeVhost', { type: 'NginxReloadFailed' });
    const out = await provision(fake, fullProvisionInput({ tls: false }));
    const failure = failureOf(out);
    assert.equal(failure.type, 'ProvisionUndoFailed');
    assert.match(failure.message, /undo failed for vhost: injected NginxReloadFailed in removeVhost/);
    assert.deepEqual(undos(fake), AFTER_BRANCHES);
    assert.deepEqual(fake.called('releaseAccount')[0]!.arg, { username: 'alice', status: 'failed' });
    assert.equal(out.progress.phase, 'failed');
    assert.equal(out.progress.steps.find((s) => s.name === 'vhost')?.status, 'undo_failed');
  });

  test('a cancel while steps run: the undos still run (not cancellable), and the caller sees the cancel', async () => {
    // The web site step takes a while, so the cancel arrives while it runs.
    const fake = new FakeActivities({ ...provisioningImpls(), ensureSiteVhost: () => new Promise((r) => setTimeout(r, 3000)) });
    const out = await provision(fake, fullProvisionInput({ tls: false }), async (h) => {
      await until('the web site step to start', async () => (fake.called('ensureSiteVhost').length ? true : undefined), 10_000, 50);
      await h.cancel();
    });
    assert.ok(out.error instanceof WorkflowFailedError, String(out.error));
    assert.ok(out.error.cause instanceof CancelledFailure, `cancelled, not rolled back as a failure: ${String(out.error.cause)}`);
    // FTP may or may not have been reached when the cancel came; every other undo runs, newest first.
    assert.deepEqual(
      undos(fake).filter((u) => u !== 'removeFtpUser'),
      AFTER_BRANCHES.filter((u) => u !== 'removeFtpUser'),
    );
    assert.deepEqual(fake.called('releaseAccount')[0]!.arg, { username: 'alice', status: 'rolled_back' });
    assert.equal(out.progress.phase, 'rolled_back');
  });

  test('a docroot that is not ours (DocrootUnsafe) is left alone and counts as undone', async () => {
    const fake = provisioningFake().failAt('ensureSiteVhost', { type: 'InjectedFault' }).failAt('removeDocroot', { type: 'DocrootUnsafe' });
    const out = await provision(fake, fullProvisionInput({ tls: false }));
    assert.equal(failureOf(out).type, 'ProvisionRolledBack');
    assert.deepEqual(fake.called('releaseAccount')[0]!.arg, { username: 'alice', status: 'rolled_back' });
  });
});
