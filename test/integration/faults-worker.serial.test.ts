import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Connection, type Client } from '@temporalio/client';
import { accountBody, apiClient, sleep, strongPassword, uniqueName } from '../support/accounts';
import { startFaultStack, type FaultStack } from '../support/fault-stack';
import { faultRandom } from '../support/fault-seed';
import { stackClient } from '../support/stack';
import { checkConsistency } from './faults-consistency';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

/**
 * SIGKILL of the worker at random points, for every account workflow type and the timer: 10 trials of each,
 * in 5 waves on one stack of the test's own. A wave starts 2 workflows of each type at random offsets, kills
 * the worker at a random moment after them (mid-activity, mid-workflow-task, between steps: wherever each
 * one is), restarts it after a random pause, and the next wave begins. Afterwards every workflow must have
 * completed or rolled back cleanly, and the inventory and every daemon must agree, with nothing twice.
 * Serial: it loads the machine (its own stack, ~50 workflows, 5 worker restarts). Seeded: the seed is printed.
 */
const PORT_BASE = 29300;
const WAVES = 5;
const PER_WAVE = 2;
/** Seeded: NPANEL_FAULT_SEED replays a run's kill points. */
const { seed, between } = faultRandom();

let faults: FaultStack;
before(async () => {
  faults = await startFaultStack('worker', PORT_BASE);
});
after(async () => {
  await faults?.down();
});

interface Trial {
  type: string;
  workflowId: string;
  startedAt: number;
}

test(
  'worker SIGKILLed at random points: every workflow completes or rolls back, services match the inventory',
  { timeout: 420_000 },
  async (t) => {
    t.diagnostic(`seed ${seed} (NPANEL_FAULT_SEED=${seed} replays the same kill points)`);
    const { api, waitClosed } = apiClient(faults.stack);
    const connection = await Connection.connect({ address: faults.stack.file.temporal.address });
    t.after(() => connection.close());
    const client = stackClient(connection, faults.stack);
    const provision = async (body: ReturnType<typeof accountBody>) => {
      const res = await api('POST', '/api/v1/accounts', body);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return res.body.workflowId as string;
    };

    // Accounts the suspend, unsuspend and deprovision trials act on, made before any fault.
    const n = WAVES * PER_WAVE;
    const made = await Promise.all(
      Array.from({ length: 3 * n }, async () => {
        const body = accountBody('flt');
        const wf = await waitClosed(await provision(body), 120_000);
        assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
        return body.username;
      }),
    );
    const toSuspend = made.slice(0, n);
    const toUnsuspend = made.slice(n, 2 * n);
    const toDeprovision = made.slice(2 * n);
    await Promise.all(
      toUnsuspend.map(async (u) => {
        const res = await api('POST', `/api/v1/accounts/${u}/suspend`);
        assert.equal(res.status, 202, JSON.stringify(res.body));
        assert.equal((await waitClosed(res.body.workflowId)).status, 'completed');
      }),
    );

    const starters: Record<string, (i: number) => Promise<string>> = {
      provisionAccount: () => provision(accountBody('fp')),
      suspendAccount: async (i) => (await api('POST', `/api/v1/accounts/${toSuspend[i]}/suspend`)).body.workflowId,
      unsuspendAccount: async (i) => (await api('POST', `/api/v1/accounts/${toUnsuspend[i]}/unsuspend`)).body.workflowId,
      deprovisionAccount: async (i) => (await api('DELETE', `/api/v1/accounts/${toDeprovision[i]}`)).body.workflowId,
      waitForTimer: async (i) => {
        const workflowId = `timer-fault-${seed}-${i}`;
        await client.workflow.start('waitForTimer', {
          taskQueue: CONTROL_TASK_QUEUE,
          workflowId,
          args: [{ ms: between(500, 4000), label: `t${i}` }],
        });
        return workflowId;
      },
    };

    const trials: Trial[] = [];
    const kills: number[] = [];
    const t0 = Date.now();
    for (let wave = 0; wave < WAVES; wave++) {
      const starts: Promise<void>[] = [];
      for (const [type, start] of Object.entries(starters)) {
        for (let k = 0; k < PER_WAVE; k++) {
          const i = wave * PER_WAVE + k;
          starts.push(
            sleep(between(0, 600)).then(async () => {
              const startedAt = Date.now();
              const workflowId = await start(i);
              assert.ok(workflowId, `${type} #${i} did not start`);
              trials.push({ type, workflowId, startedAt });
            }),
          );
        }
      }
      await sleep(between(200, 900));
      await faults.kill('worker', 'SIGKILL');
      kills.push(Date.now());
      await Promise.all(starts); // the API accepts starts while no worker runs: they wait in the task queue
      await sleep(between(0, 1500));
      await faults.restart('worker');
    }
    t.diagnostic(`${kills.length} kills in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const results = await Promise.all(trials.map(async (tr) => ({ ...tr, wf: await waitClosed(tr.workflowId, 240_000) })));
    const hit: Record<string, number> = {};
    const outcomes: Record<string, Record<string, number>> = {};
    for (const r of results) {
      const closedAt = Date.parse(r.wf.closedAt);
      if (kills.some((k) => k >= r.startedAt && k <= closedAt)) hit[r.type] = (hit[r.type] ?? 0) + 1;
      const outcome = r.wf.status === 'completed' ? 'completed' : `${r.wf.status}:${r.wf.error?.type ?? '?'}`;
      (outcomes[r.type] ??= {})[outcome] = ((outcomes[r.type] ??= {})[outcome] ?? 0) + 1;
      // Completed, or a clean rollback (the saga undid everything); never an undo failure, never a timeout.
      const clean =
        r.wf.status === 'completed' ||
        (r.wf.status === 'failed' &&
          ['ProvisionRolledBack', 'SuspensionRolledBack'].includes(r.wf.error?.type) &&
          r.wf.progress?.phase === 'rolled_back');
      assert.ok(clean, `${r.type} ${r.workflowId} ended ${r.wf.status}: ${JSON.stringify(r.wf.error)} ${JSON.stringify(r.wf.progress)}`);
      if (r.type === 'waitForTimer') assert.ok(r.wf.result?.firedAfterMs > 0, JSON.stringify(r.wf));
    }
    t.diagnostic(`outcomes ${JSON.stringify(outcomes)}`);
    t.diagnostic(`in flight at a kill, per type: ${JSON.stringify(hit)}`);
    for (const type of Object.keys(starters)) {
      assert.equal(results.filter((r) => r.type === type).length, n, `${type}: ${n} trials`);
      assert.ok((hit[type] ?? 0) >= 1, `${type}: no trial was in flight at a kill (${JSON.stringify(hit)})`);
    }

    const consistency = await checkConsistency(faults.stack);
    t.diagnostic(`after the faults: ${consistency.accounts} accounts (${consistency.suspended} suspended)`);
    assert.deepEqual(consistency.problems, []);
    // What each type should have left: deprovisioned accounts gone, suspended ones suspended, and so on.
    const list = (await apiClient(faults.stack).listAll('/api/v1/accounts', 'accounts')) as { username: string; status: string }[];
    const status = (u: string) => list.find((a) => a.username === u)?.status ?? 'gone';
    for (const u of toDeprovision) assert.equal(status(u), 'gone', `${u} deprovisioned`);
    for (const u of toSuspend) assert.equal(status(u), 'suspended', `${u} suspended`);
    for (const u of toUnsuspend) assert.equal(status(u), 'active', `${u} unsuspended`);
  },
);
