import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStreamSlots } from '../../api/stream-slots';
import { createWorkflowWatch } from '../../api/workflow-watch';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('many subscribers of one workflow share one poll; the loop stops when the last leaves', async () => {
  const loads: string[] = [];
  const watch = createWorkflowWatch(async (id) => (loads.push(id), { id }), 20);
  const seen = Array.from({ length: 10 }, () => 0);
  const offs = seen.map((_, i) => watch.subscribe('wf-a', () => seen[i]!++));
  await sleep(110);
  const polls = loads.length;
  assert.ok(polls >= 3 && polls <= 6, `about one load per 20 ms for ten subscribers, got ${polls}`);
  assert.ok(
    seen.every((n) => n === polls),
    'every subscriber got every update',
  );
  assert.equal(watch.loops(), 1);
  for (const off of offs) off();
  await sleep(60);
  assert.equal(watch.loops(), 0, 'no loop without subscribers');
  const after = loads.length;
  await sleep(60);
  assert.equal(loads.length, after, 'no more loads');
});

test('a failed load reaches subscribers as an error and the loop goes on', async () => {
  let n = 0;
  const watch = createWorkflowWatch(async () => {
    if (++n === 1) throw new Error('temporal down');
    return 'ok';
  }, 10);
  const got: string[] = [];
  const off = watch.subscribe('wf-b', (u) => got.push('error' in u ? u.error.message : String(u.detail)));
  await sleep(60);
  off();
  assert.equal(got[0], 'temporal down');
  assert.ok(got.slice(1).every((g) => g === 'ok') && got.length >= 2);
});

test('stream slots: ten per token, released once, per token', () => {
  const slots = createStreamSlots(10);
  const releases = Array.from({ length: 10 }, () => slots.take(1));
  assert.ok(releases.every(Boolean));
  assert.equal(slots.take(1), null, 'the 11th is refused');
  assert.ok(slots.take(2), 'another token is not bounded by it');
  releases[0]!();
  releases[0]!();
  assert.equal(slots.inUse(1), 9, 'a double release frees one slot only');
  assert.ok(slots.take(1));
  assert.equal(slots.take(1), null);
});
