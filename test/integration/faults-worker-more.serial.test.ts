import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Connection, type Client } from '@temporalio/client';
import { and, inArray, lt } from 'drizzle-orm';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { workflowIds } from '../../common/workflow-ids';
import { createDb } from '../../db/client';
import { createRepositories } from '../../db/repositories';
import { certificates } from '../../db/schema';
import { apiClient, dig, nodePaths, pdnsZones, sleep, uniqueName } from '../support/accounts';
import { faultRandom } from '../support/fault-seed';
import { startFaultStack, type FaultStack } from '../support/fault-stack';
import { stackClient } from '../support/stack';
import { checkConsistency } from './faults-consistency';
import { certificateState, renewalRuns, smallSourceSite } from './faults-more-checks';
import { migrationBody, shopRowCounts, targetDocroot, treeHashes } from './migration-helpers';

/**
 * The worker SIGKILLed at random points while the other workflow types run: renewCertificate,
 * certificateRenewalSweep, migrateSite and pruneAuditEvents, 10 trials each on a stack of the test's own
 * (faults-worker.serial.test.ts does the account workflows and the timer). Trials start at random gaps while
 * a killer kills the worker 10 times at random moments and restarts it after a random pause. Sweeps run one
 * after another (the schedule's overlap policy is `skip`); each has its own two domains made due.
 * Afterwards: renewals served = inventory, one current version + the previous on disk; every sweep renewed its
 * domains once; migrations match the source (files, rows, DNS) or left nothing; retention removed exactly the
 * rows past its cutoff; and inventory and daemons agree. Seeded: NPANEL_FAULT_SEED replays the kill points.
 */
const PORT_BASE = 29600;
const TRIALS = 10;
const KILLS = 10;
const KEEP_DAYS = 365;
const DAY = 86_400_000;
const { seed, between } = faultRandom();

let faults: FaultStack;
before(async () => {
  faults = await startFaultStack('worker-more', PORT_BASE);
});
after(async () => {
  await faults?.down();
});

interface Trial {
  type: string;
  i: number;
  workflowId: string;
  startedAt: number;
  wf?: any;
}

test(
  'worker SIGKILLed during renewals, sweeps, migrations and audit pruning: each completes or rolls back cleanly',
  { timeout: 480_000 },
  async (t) => {
    t.diagnostic(`seed ${seed} (NPANEL_FAULT_SEED=${seed} replays the same kill points)`);
    const t0 = Date.now();
    const { stack } = faults;
    const { api, waitClosed } = apiClient(stack);
    const connection = await Connection.connect({ address: stack.file.temporal.address });
    const handle = createDb({
      host: stack.file.mysql.host,
      port: stack.file.mysql.port,
      user: 'npanel',
      password: stack.secrets.inventoryPassword,
      database: 'npanel',
    });
    t.after(async () => {
      await connection.close();
      await handle.close();
    });
    const repos = createRepositories(handle.db);
    const client = stackClient(connection, stack);

    // Before any fault: 10 accounts with a certificate for the renewals, 2 per sweep for the sweeps. The first
    // alone: concurrent FIRST orders of a fresh node race to register its ACME account (see the report).
    const withCertificate = async () => {
      const username = uniqueName('fc');
      const res = await api('POST', '/api/v1/accounts', { username, domain: `${username}.test`, tls: true });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const wf = await waitClosed(res.body.workflowId, 180_000);
      assert.equal(wf.status, 'completed', JSON.stringify(wf.error ?? wf.progress));
      return `${username}.test`;
    };
    const domains = [await withCertificate(), ...(await Promise.all(Array.from({ length: 3 * TRIALS - 1 }, withCertificate)))];
    const toRenew = domains.slice(0, TRIALS);
    const sweepDomains = (i: number) => domains.slice(TRIALS + 2 * i, TRIALS + 2 * i + 2);
    const initial = await certificateState(stack, domains);
    for (const [d, s] of initial)
      assert.ok(s.served && s.served === s.inventory && s.onDisk.length === 1, `${d} issued before the faults: ${JSON.stringify(s)}`);
    t.diagnostic(`setup: ${domains.length} accounts with certificates in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const trials: Trial[] = [];
    const kills: number[] = [];
    const migrations: { account: string; domain: string; src: string }[] = [];
    const auditRows: { workflowId: string; old: boolean }[] = [];
    const sweepDue: string[][] = [];
    // The killer aims each kill at a trial of one type (in turn): a random moment within that type's usual run.
    const waiting: { type: string; resolve: (trial: Trial) => void }[] = [];
    const nextStart = (type: string) => new Promise<Trial>((resolve) => waiting.push({ type, resolve }));
    const started = async (type: string, i: number, start: () => Promise<string>) => {
      const startedAt = Date.now();
      const workflowId = await start();
      assert.ok(workflowId, `${type} #${i} did not start`);
      const trial: Trial = { type, i, workflowId, startedAt };
      trials.push(trial);
      for (const w of waiting.splice(0).filter((x) => x.type === type || !waiting.push(x))) w.resolve(trial);
      return trial;
    };
    // Each lane starts its 10 trials at random gaps while the killer works; the API accepts starts with no worker.
    const lane = async (type: string, start: (i: number) => Promise<string>) => {
      for (let i = 0; i < TRIALS; i++) {
        await sleep(between(1500, 12_000));
        await started(type, i, () => start(i));
      }
    };
    const renewals = lane('renewCertificate', async (i) => (await api('POST', `/api/v1/certificates/${toRenew[i]}/renew`)).body.workflowId);
    const migrate = lane('migrateSite', async (i) => {
      const account = uniqueName('fm');
      const domain = `${account}.test`;
      const src = smallSourceSite(stack, domain, 40);
      migrations[i] = { account, domain, src };
      return (await api('POST', '/api/v1/migrations', migrationBody(stack, { account, domain, docroot: src, databases: ['shop'] }))).body
        .workflowId;
    });
    const prunes = lane('pruneAuditEvents', async (i) => {
      // Rows on both sides of the cutoff (365 days back): 30 older (some by seconds), 10 younger (by an hour or more).
      const rows = Array.from({ length: 40 }, (_, k) => {
        const old = k < 30;
        const age = old ? KEEP_DAYS * DAY + between(60_000, 400 * DAY) : between(0, KEEP_DAYS * DAY - 3_600_000);
        return { workflowId: `audit-fault-${seed}-${i}-${k}`, old, age };
      });
      await repos.audit.appendMany(
        rows.map((r) => ({
          workflowId: r.workflowId,
          workflowType: 'provisionAccount',
          step: 'reserve',
          action: 'do' as const,
          outcome: 'ok' as const,
          actor: 'fault-test',
          account: null,
          domain: null,
          at: new Date(Date.now() - r.age),
        })),
      );
      auditRows.push(...rows);
      const workflowId = `prune-fault-${seed}-${i}`;
      await client.workflow.start('pruneAuditEvents', {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowId,
        args: [{ keepDays: KEEP_DAYS, batchSize: 2 }],
      });
      return workflowId;
    });
    // Sweeps one at a time: make this sweep's two domains due (5 days left), run it, wait for it to close. A
    // renewal the sweep rolled back leaves its domain due: it is put back out of the window so that the next
    // sweep's due list is its own two domains.
    const sweeps = (async () => {
      for (let i = 0; i < TRIALS; i++) {
        await sleep(between(200, 3000));
        const due = sweepDomains(i);
        await handle.db
          .update(certificates)
          .set({ notAfter: new Date(Date.now() + 5 * DAY) })
          .where(inArray(certificates.domain, due));
        sweepDue[i] = due;
        const trial = await started('certificateRenewalSweep', i, async () => {
          const workflowId = `sweep-fault-${seed}-${i}`;
          await client.workflow.start('certificateRenewalSweep', {
            taskQueue: CONTROL_TASK_QUEUE,
            workflowId,
            args: [{ renewWithinDays: 30, maxConcurrent: 2 }],
          });
          return workflowId;
        });
        trial.wf = await waitClosed(trial.workflowId, 330_000);
        await handle.db
          .update(certificates)
          .set({ notAfter: new Date(Date.now() + 60 * DAY) })
          .where(and(inArray(certificates.domain, due), lt(certificates.notAfter, new Date(Date.now() + 30 * DAY))));
      }
    })();

    // Sweeps first: they are the shortest and run one after another early on. A kill whose aimed trial closed
    // before it (a fast run) is not made; the killer aims at that type again, a few times at most, so that every
    // type is hit on a loaded machine too.
    const runMs: Record<string, number> = {
      certificateRenewalSweep: 800,
      renewCertificate: 1000,
      migrateSite: 4000,
      pruneAuditEvents: 300,
    };
    const isOpen = async (workflowId: string) => (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    let reAims = 0;
    const killer = (async () => {
      for (let k = 0; k < KILLS; k++) {
        const type = Object.keys(runMs)[k % 4]!;
        const aimed = await Promise.race([nextStart(type), sleep(15_000).then(() => undefined)]);
        await sleep(between(0, runMs[type]!));
        if (aimed && reAims < 8 && !(await isOpen(aimed.workflowId))) {
          reAims++;
          k--;
          continue;
        }
        await faults.kill('worker', 'SIGKILL');
        kills.push(Date.now());
        await sleep(between(0, 1500));
        await faults.restart('worker');
      }
    })();
    await Promise.all([renewals, migrate, prunes, sweeps, killer]);
    t.diagnostic(
      `${kills.length} kills (${reAims} aims re-taken: the trial had closed); trials started by ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    for (const tr of trials) tr.wf ??= await waitClosed(tr.workflowId, 330_000);
    t.diagnostic(`all closed by ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Outcomes per type, and how many trials were in flight at a kill.
    const hit: Record<string, number> = {};
    const outcomes: Record<string, Record<string, number>> = {};
    const slowest: Record<string, number> = {};
    for (const r of trials) {
      const closedAt = Date.parse(r.wf.closedAt);
      if (kills.some((k) => k >= r.startedAt && k <= closedAt)) hit[r.type] = (hit[r.type] ?? 0) + 1;
      slowest[r.type] = Math.max(slowest[r.type] ?? 0, Math.round((closedAt - r.startedAt) / 1000));
      const outcome =
        r.wf.status === 'completed' ? 'completed' : `${r.wf.status}:${r.wf.error?.type ?? '?'}:${r.wf.progress?.phase ?? '?'}`;
      (outcomes[r.type] ??= {})[outcome] = (outcomes[r.type]![outcome] ?? 0) + 1;
    }
    t.diagnostic(`outcomes ${JSON.stringify(outcomes)}`);
    t.diagnostic(`in flight at a kill, per type: ${JSON.stringify(hit)}; slowest trial per type (s): ${JSON.stringify(slowest)}`);
    for (const type of ['renewCertificate', 'certificateRenewalSweep', 'migrateSite', 'pruneAuditEvents']) {
      assert.equal(trials.filter((r) => r.type === type).length, TRIALS, `${type}: ${TRIALS} trials`);
      assert.ok((hit[type] ?? 0) >= 1, `${type}: no trial was in flight at a kill (${JSON.stringify(hit)})`);
    }
    const of = (type: string) => trials.filter((r) => r.type === type).sort((a, b) => a.i - b.i);
    const problems: string[] = [];

    // Renewals and sweeps: what nginx serves is what the inventory says; one current version + the previous.
    const state = await certificateState(stack, domains);
    const runs = await renewalRuns(client);
    const expectCert = (domain: string, renewed: string | null, why: string) => {
      const s = state.get(domain)!;
      const first = initial.get(domain)!.served!;
      const current = renewed ?? first;
      if (s.served !== current || s.inventory !== current)
        problems.push(`${why} ${domain}: served ${s.served}, inventory ${s.inventory}, expected ${current}`);
      const disk = renewed ? [renewed, first].sort() : [first];
      if (JSON.stringify(s.onDisk) !== JSON.stringify(disk))
        problems.push(`${why} ${domain}: on disk ${s.onDisk.join(',')}, expected ${disk.join(',')}`);
    };
    for (const r of of('renewCertificate')) {
      const domain = toRenew[r.i]!;
      if (r.wf.status === 'completed') {
        if (r.wf.result.previousSerial !== initial.get(domain)!.served)
          problems.push(`renewal ${domain}: previous ${r.wf.result.previousSerial}`);
        expectCert(domain, r.wf.result.serial, 'renewal');
      } else if (r.wf.status === 'failed' && ['rolled_back', 'failed'].includes(r.wf.progress?.phase))
        expectCert(domain, null, 'failed renewal');
      else problems.push(`renewal ${r.workflowId} ended ${r.wf.status}: ${JSON.stringify(r.wf.error)}`);
    }
    for (const r of of('certificateRenewalSweep')) {
      const totals = r.wf.result;
      if (r.wf.status !== 'completed') {
        problems.push(`sweep ${r.workflowId} ended ${r.wf.status}: ${JSON.stringify(r.wf.error)}`);
        continue;
      }
      const children = runs.filter((x) => x.parent === r.workflowId);
      const expected = sweepDue[r.i]!;
      // Exactly one renewal per due domain from this sweep (a replayed sweep must not start one twice).
      const perDomain = expected.map((d) => children.filter((c) => c.workflowId === workflowIds.certificate(d)).length);
      if (children.length !== expected.length || perDomain.some((n) => n !== 1))
        problems.push(`sweep ${r.workflowId}: children ${JSON.stringify(children)} for ${expected.join(',')}`);
      if (totals.due !== expected.length || totals.renewed + totals.failed !== totals.due || totals.skipped !== 0)
        problems.push(`sweep ${r.workflowId}: totals ${JSON.stringify(totals)}`);
      for (const d of expected) {
        const child = children.find((c) => c.workflowId === workflowIds.certificate(d));
        const result = child?.status === 'COMPLETED' ? await client.workflow.getHandle(child.workflowId).result() : null;
        expectCert(d, result?.serial ?? null, `sweep ${r.i}`);
      }
    }

    // Migrations: completed = the source's files and rows on the target and DNS on the node; else nothing left.
    const zones = await pdnsZones(stack);
    const node = nodePaths(stack, 'a');
    for (const r of of('migrateSite')) {
      const { account, domain, src } = migrations[r.i]!;
      if (r.wf.status === 'completed') {
        assert.deepEqual(treeHashes(targetDocroot(stack, account, domain)), treeHashes(src), `${domain}: files match the source`);
        assert.deepEqual(await shopRowCounts(stack, `${account}_shop`), await shopRowCounts(stack, 'shop'), `${domain}: rows match`);
        assert.deepEqual((await dig(stack, domain, 'A')).answers, [stack.file.node.ip], `${domain}: DNS cut over`);
      } else if (r.wf.status === 'failed' && r.wf.error?.type === 'MigrationRolledBack' && r.wf.progress?.phase === 'rolled_back') {
        if (zones.includes(`${domain}.`) || fs.existsSync(path.join(node.nginx.webRoot, account)))
          problems.push(`rolled-back migration ${domain} left its zone or docroot`);
      } else
        problems.push(
          `migration ${r.workflowId} ended ${r.wf.status}: ${JSON.stringify(r.wf.error)} ${JSON.stringify(r.wf.progress?.phase)}`,
        );
    }

    // Retention: every row past the cutoff went, every younger row stayed, and no prune failed.
    const [left] = (await handle.pool.query('SELECT workflow_id FROM audit_events WHERE workflow_id LIKE ?', [
      `audit-fault-${seed}-%`,
    ])) as unknown as [{ workflow_id: string }[]];
    const present = new Set(left.map((x) => x.workflow_id));
    const wrong = auditRows
      .filter((x) => x.old === present.has(x.workflowId))
      .map((x) => `${x.workflowId}(${x.old ? 'old, kept' : 'young, deleted'})`);
    if (wrong.length) problems.push(`audit rows on the wrong side of the cutoff: ${wrong.join(', ')}`);
    let counted = 0;
    for (const r of of('pruneAuditEvents')) {
      if (r.wf.status !== 'completed') problems.push(`prune ${r.workflowId} ended ${r.wf.status}: ${JSON.stringify(r.wf.error)}`);
      else {
        counted += r.wf.result.deleted;
        const cutoff = Date.parse(r.wf.result.cutoff);
        if (Math.abs(cutoff - (r.startedAt - KEEP_DAYS * DAY)) > 5 * 60_000)
          problems.push(`prune ${r.workflowId}: cutoff ${r.wf.result.cutoff}`);
      }
    }
    const old = auditRows.filter((x) => x.old).length;
    t.diagnostic(`audit: ${old} rows past the cutoff seeded, all gone; prunes report ${counted} deleted`);
    if (counted > old) problems.push(`prunes report ${counted} deleted, only ${old} were past the cutoff`);

    const consistency = await checkConsistency(stack);
    t.diagnostic(`after the faults: ${consistency.accounts} accounts; file time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.deepEqual([...problems, ...consistency.problems], []);
  },
);
