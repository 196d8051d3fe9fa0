import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import type { MigrateSiteInput } from '../../common/migration-input';
import type { MigrateSiteResult } from '../../workflows/migrate-site';
import type { GateWait } from '../../workflows/operator-gate';
import type { Progress } from '../../workflows/steps';
import { until } from '../support/poll';
import { createTestEnv, type FakeActivities, withWorkers } from '../support/workflow-env';
import { migrationFake, migrationInput, SOURCE_IP } from '../support/workflow-fakes';

/**
 * migrateSite and its operator gate without daemons: failures by type (fatal ones roll back at once, others
 * wait for the operator), the operator's retry / skip / rollback / abort, and what each rollback undoes.
 * (The real migration over SSH is test/integration/migration*.test.ts and test/e2e/migration-gate.test.ts.)
 */

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createTestEnv();
});
after(async () => {
  await env?.teardown();
});

type MigrationProgress = Progress & { operator: GateWait | null };
type Outcome = { result?: MigrateSiteResult; error?: unknown; progress: MigrationProgress };

let seq = 0;
/** Starts a migration, lets `drive` act on it while it runs (the operator), and returns how it ended. */
async function migrate(
  fake: FakeActivities,
  input: MigrateSiteInput,
  drive: (h: WorkflowHandle) => Promise<void> = async () => {},
): Promise<Outcome> {
  return withWorkers(env, fake, async () => {
    const handle = await env.client.workflow.start('migrateSite', {
      taskQueue: CONTROL_TASK_QUEUE,
      workflowId: `migrate-test-${++seq}`,
      args: [input],
    });
    await drive(handle);
    let outcome: { result?: MigrateSiteResult; error?: unknown };
    // A gate that waits when it should not would block forever: bound the wait so the test fails, not hangs.
    const stuck = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the migration did not end by itself (waiting at the gate?)')), 20_000).unref(),
    );
    try {
      outcome = { result: (await Promise.race([handle.result(), stuck])) as MigrateSiteResult };
    } catch (error) {
      outcome = { error };
    }
    return { ...outcome, progress: await handle.query<MigrationProgress>('progress') };
  });
}

function awaitingOperator(h: WorkflowHandle, step: string): Promise<GateWait> {
  return until(
    `the gate at ${step}`,
    async () => {
      const p = await h.query<MigrationProgress>('progress');
      return p.phase === 'awaiting_operator' && p.operator?.step === step ? p.operator : undefined;
    },
    15_000,
    100,
  );
}

const resolve = (h: WorkflowHandle, action: string) => h.executeUpdate('resolve', { args: [{ action }] });

/** The gate's validator refuses the update: the reason is the cause's message (what the API answers with 409). */
async function refused(update: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(update, (err: Error & { cause?: Error }) => {
    assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
    assert.match(err.cause?.message ?? '', reason);
    return true;
  });
}

function failureOf(out: Outcome): ApplicationFailure {
  assert.ok(out.error instanceof WorkflowFailedError, `the migration failed (got ${String(out.error)})`);
  assert.ok(out.error.cause instanceof ApplicationFailure);
  return out.error.cause;
}

const UNDO_ACTIVITIES = new Set([
  'deleteDnsZone',
  'removeMailbox',
  'dropCustomerDatabase',
  'releaseNames',
  'removeMailDomain',
  'removeFtpUser',
  'removeVhost',
  'removeDocroot',
  'removeAccountRecords',
]);
const undos = (fake: FakeActivities) => fake.names().filter((n) => UNDO_ACTIVITIES.has(n));

/**
 * The rollback of a migration that got past the databases and mail: DNS first (the zone was made by this
 * migration: deleted), then the compensations newest first (mailbox, database, the account it provisioned),
 * then the names the API claimed.
 */
const FULL_ROLLBACK = [
  'deleteDnsZone',
  'removeMailbox',
  'releaseNames',
  'dropCustomerDatabase',
  'releaseNames',
  'removeMailDomain',
  'removeFtpUser',
  'removeVhost',
  'removeDocroot',
  'removeAccountRecords',
  'releaseNames',
];

/** Failure types no operator can fix: the migration must roll back without waiting. */
const FATAL_TYPES = [
  'HostKeyMismatch',
  'RemoteCommandInvalid',
  'MigrationSourceInvalid',
  'InvalidInput',
  'SourceAuthFailed',
  'AccountConflict',
  'NameConflict',
  'DumpStatementRefused',
  'DumpDefinerForeign',
];

describe('migrateSite and the operator gate (TestWorkflowEnvironment, fake activities)', () => {
  test('auto cut-over: TTL lowered, DNS moved to the node, TTL restored; a password made for the mailbox', async () => {
    const fake = migrationFake();
    const out = await migrate(fake, migrationInput());
    assert.ok(out.result, `completed (got ${String(out.error)})`);
    assert.deepEqual(out.result.databases, [{ source: 'wp', target: 'bob_wp', tables: 2 }]);
    assert.deepEqual(out.result.mailboxes, ['info@shop.test']);
    assert.equal(out.result.mailboxPasswords.length, 1);
    assert.match(out.result.mailboxPasswords[0]!.password, /^Mb-[0-9a-f-]{36}$/);
    const dns = fake
      .called('setDnsRecords')
      .map((c) => (c.arg.records as { ttl: number; contents: string[] }[]).map((r) => [r.ttl, r.contents.join()]));
    assert.deepEqual(dns, [[[60, SOURCE_IP]], [[60, '192.0.2.10']], [[3600, '192.0.2.10']]]);
    assert.deepEqual(undos(fake), []);
    assert.deepEqual(fake.called('updateMigration').at(-1)!.arg, { status: 'completed' });
    assert.equal(out.progress.phase, 'completed');
  });

  for (const type of FATAL_TYPES) {
    test(`${type} in preflight: rolled back at once, no operator wait`, async () => {
      const fake = migrationFake().failAt('migrationPreflight', { type });
      const out = await migrate(fake, migrationInput());
      const failure = failureOf(out);
      assert.equal(failure.type, 'MigrationRolledBack');
      assert.match(failure.message, new RegExp(`^migration of shop.test rolled back: injected ${type} in migrationPreflight$`));
      // Nothing was made yet: only the names the API claimed are released; the source's DNS is untouched.
      assert.deepEqual(undos(fake), ['releaseNames']);
      assert.equal(fake.called('migrationPreflight').length, 1, 'not retried');
      assert.ok(!out.progress.steps.some((s) => s.status === 'skipped' && s.name === 'preflight'));
      assert.deepEqual(fake.called('updateMigration').at(-1)!.arg, { status: 'rolled_back' });
    });
  }

  test('a refused dump (fatal) after the account was made: everything this migration made is undone, in reverse', async () => {
    const fake = migrationFake().failAt('migrationCopyDatabase', { type: 'DumpStatementRefused' });
    const out = await migrate(fake, migrationInput({ source: { ...migrationInput().source, mailboxes: [] } }));
    assert.equal(failureOf(out).type, 'MigrationRolledBack');
    // No mailbox step ran: the rollback is the full one without the mailbox's compensation.
    assert.deepEqual(
      undos(fake),
      FULL_ROLLBACK.filter((_, i) => i !== 1 && i !== 2),
    );
    assert.equal(out.progress.phase, 'rolled_back');
  });

  test('a step failing for another reason waits for the operator; retry runs it again and the migration completes', async () => {
    const fake = migrationFake().failAt('migrationSyncFiles', { type: 'RsyncFailed', times: 1 });
    const out = await migrate(fake, migrationInput(), async (h) => {
      const wait = await awaitingOperator(h, 'files');
      assert.deepEqual(wait.actions, ['retry', 'rollback', 'abort'], 'files cannot be skipped');
      assert.equal(wait.errorType, 'RsyncFailed');
      assert.match(wait.error, /injected RsyncFailed in migrationSyncFiles/);
      assert.deepEqual(await resolve(h, 'retry'), { action: 'retry', step: 'files' });
    });
    assert.ok(out.result, `completed (got ${String(out.error)})`);
    assert.equal(fake.called('migrationSyncFiles').filter((c) => c.arg.pass === 'initial').length, 2);
    assert.deepEqual(undos(fake), []);
  });

  test('skip where the step allows it (mail): the migration completes without that mailbox', async () => {
    const fake = migrationFake().failAt('migrationSyncMaildir', { type: 'RsyncFailed' });
    const out = await migrate(fake, migrationInput(), async (h) => {
      const wait = await awaitingOperator(h, 'mail');
      assert.deepEqual(wait.actions, ['retry', 'skip', 'rollback', 'abort']);
      await resolve(h, 'skip');
    });
    assert.ok(out.result, `completed (got ${String(out.error)})`);
    assert.deepEqual(out.result.mailboxes, []);
    assert.deepEqual(out.result.mailboxPasswords, []);
    assert.equal(out.progress.steps.find((s) => s.name === 'mail')?.status, 'skipped');
  });

  test('skip where the step does not allow it is refused; rollback then undoes everything and restores DNS', async () => {
    const fake = migrationFake().failAt('migrationVerifySite', { type: 'SiteVerificationFailed' });
    const out = await migrate(fake, migrationInput(), async (h) => {
      await awaitingOperator(h, 'verify');
      await refused(resolve(h, 'skip'), /skip is not possible at step verify/);
      await refused(resolve(h, 'nonsense'), /action must be one of retry, skip, rollback, abort/);
      await resolve(h, 'rollback');
    });
    const failure = failureOf(out);
    assert.equal(failure.type, 'MigrationRolledBack');
    assert.equal(failure.message, "migration of shop.test rolled back: at the operator's request");
    assert.deepEqual(undos(fake), FULL_ROLLBACK);
    assert.deepEqual(fake.called('updateMigration').at(-1)!.arg, { status: 'rolled_back' });
  });

  test('abort leaves everything as it is for a human: no undo, status aborted', async () => {
    const fake = migrationFake().failAt('migrationVerifySite', { type: 'SiteVerificationFailed' });
    const out = await migrate(fake, migrationInput(), async (h) => {
      await awaitingOperator(h, 'verify');
      await resolve(h, 'abort');
    });
    assert.equal(failureOf(out).type, 'MigrationAborted');
    assert.deepEqual(undos(fake), []);
    assert.deepEqual(fake.called('updateMigration').at(-1)!.arg, { status: 'aborted' });
    assert.equal(out.progress.phase, 'failed');
  });

  test('manual cut-over: DNS stays at the source until the operator says go; then it moves', async () => {
    const fake = migrationFake();
    const out = await migrate(fake, migrationInput({ cutover: 'manual' }), async (h) => {
      const wait = await awaitingOperator(h, 'cutover');
      assert.deepEqual(wait.actions, ['rollback', 'abort']);
      assert.equal(fake.called('setDnsRecords').length, 1, 'only the TTL was lowered');
      await refused(resolve(h, 'retry'), /retry is not possible at step cutover/);
      await h.executeUpdate('cutover', { args: [] });
    });
    assert.ok(out.result, `completed (got ${String(out.error)})`);
    assert.equal(fake.called('setDnsRecords').length, 3);
  });
});
