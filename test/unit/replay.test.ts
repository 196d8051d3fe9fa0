import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { WORKFLOW_TYPES } from '../../common/workflow-types';
import { WORKFLOW_BUNDLE_PATH } from '../../worker/bundle';
import { loadFixtures } from '../replay/history-file';

/**
 * Determinism: histories recorded from real runs (test/replay/histories, re-recorded with
 * test/replay/record.ts) replay against the CURRENT workflow bundle — the very file the worker loads. A change
 * that would break workflows already running (a step added, reordered or renamed without `patched()`) makes
 * the replay throw a DeterminismViolationError here, before it reaches a deployed worker.
 */
const fixtures = loadFixtures();
// Only problems: a replay worker otherwise logs every state change.
Runtime.install({ logger: new DefaultLogger('WARN') });

const REPLAY_OPTIONS = {
  workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
  // The bundle's outcome interceptor calls the worker's `metrics` sink; a replay records nothing.
  sinks: { metrics: { workflowStarted: { fn: () => undefined }, workflowClosed: { fn: () => undefined } } },
};

test('every workflow type has at least one recorded history', () => {
  const recorded = new Set(fixtures.map((f) => f.workflowType));
  const missing = WORKFLOW_TYPES.filter((t) => !recorded.has(t));
  assert.deepEqual(missing, [], `no replay fixture for ${missing.join(', ')}: record one with test/replay/record.ts`);
});

test('recorded histories replay against the current workflow bundle', { timeout: 120_000 }, async (t) => {
  assert.ok(fixtures.length >= 10, `only ${fixtures.length} fixtures`);
  assert.ok(fs.existsSync(WORKFLOW_BUNDLE_PATH), `no workflow bundle at ${WORKFLOW_BUNDLE_PATH}: run npm run build`);
  const results = Worker.runReplayHistories(
    REPLAY_OPTIONS,
    fixtures.map((f) => ({ workflowId: f.workflowId, history: f.history })),
  );
  const failures: string[] = [];
  let replayed = 0;
  for await (const r of results) {
    replayed++;
    if (r.error) failures.push(`${r.workflowId}: ${r.error.name}: ${r.error.message}`);
  }
  t.diagnostic(`${replayed} histories replayed`);
  assert.equal(replayed, fixtures.length);
  assert.deepEqual(failures, []);
});

test('a history the current code did not produce fails the replay (the check can fail)', { timeout: 60_000 }, async () => {
  const original = fixtures.find((f) => f.file === 'provisionAccount-completed.json');
  assert.ok(original, 'provisionAccount-completed.json fixture');
  // As if an older version had run another first step: the current code schedules reserveAccount there.
  const tampered = structuredClone(original.history);
  const scheduled = tampered.events!.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
  scheduled.activityType = { name: 'reserveAccountV0' };
  const errors: (Error | undefined)[] = [];
  for await (const r of Worker.runReplayHistories(REPLAY_OPTIONS, [{ workflowId: original.workflowId, history: tampered }]))
    errors.push(r.error);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.name, 'DeterminismViolationError', String(errors[0]));
});
