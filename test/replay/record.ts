import { Client, Connection } from '@temporalio/client';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { workflowIds } from '../../common/workflow-ids';
import { codecFromConfig } from '../../lib/codec';
import { accountBody, apiClient, uniqueName } from '../support/accounts';
import { loadStack } from '../support/stack';
import { migrationBody } from '../integration/migration-helpers';
import { showHistory, writeFixture } from './history-file';

/**
 * Re-records the replay fixtures (test/replay/histories) from real runs on a running stack:
 *
 *   bin/npanel up --detach --home /work/rec --port-base 31700
 *   NPANEL_STACK_DIR=/work/rec node dist/test/replay/record.js [case ...]
 *
 * Until the first release, run it after any deliberate change of a workflow's shape (docs/ARCHITECTURE.md,
 * compatibility policy); from then on only for a new type or a new patched() branch, never to make a failing
 * replay test pass: a replay failure means running workflows would break on deploy. Passwords below are
 * fixture-only values; the histories are stored decoded (see history-file.ts).
 */
const FIXTURE_PASSWORD = 'Fixture-only-pw-7!';

async function main(): Promise<void> {
  const stack = loadStack();
  const { api, waitClosed } = apiClient(stack);
  const codec = codecFromConfig({ key: stack.secrets.codecKey, keyId: stack.secrets.codecKeyId });
  const connection = await Connection.connect({ address: stack.file.temporal.address });
  const client = new Client({ connection, namespace: stack.file.temporal.namespace, dataConverter: { payloadCodecs: [codec] } });
  const wanted = new Set(process.argv.slice(2));

  const save = async (name: string, workflowId: string) => {
    const wf = await waitClosed(workflowId, 180_000);
    const json = (await showHistory(stack.file.temporal.address, workflowId)) as { events?: unknown[] };
    const file = await writeFixture(name, workflowId, json, codec);
    process.stdout.write(`${name}: ${wf.status} (${json.events?.length} events) -> ${file}\n`);
    return wf;
  };
  const post = async (path: string, body?: unknown, method = 'POST') => {
    const res = await api(method, path, body);
    if (res.status !== 202) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.workflowId as string;
  };
  const fixedPassword = () => FIXTURE_PASSWORD;

  const cases: Record<string, () => Promise<void>> = {
    async timer() {
      const id = `timer-replay-${Date.now()}`;
      await client.workflow.start('waitForTimer', { taskQueue: CONTROL_TASK_QUEUE, workflowId: id, args: [{ ms: 200, label: 'replay' }] });
      await save('waitForTimer-completed', id);
    },
    async lifecycle() {
      const a = accountBody('rpl', { password: fixedPassword });
      await save('provisionAccount-completed', await post('/api/v1/accounts', a));
      await save('suspendAccount-completed', await post(`/api/v1/accounts/${a.username}/suspend`));
      await save('unsuspendAccount-completed', await post(`/api/v1/accounts/${a.username}/unsuspend`));
      // A second provisioning of the same domain under another name, started as a lost race would start it:
      // reserve refuses it and the saga rolls back.
      const clash = { ...accountBody('rpx', { password: fixedPassword }), domain: a.domain };
      const id = workflowIds.provision(clash.username, `r${Date.now()}`);
      await client.workflow.start('provisionAccount', {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowId: id,
        args: [
          {
            ...clash,
            node: stack.file.node.id,
            nodeIp: stack.file.node.ip,
            database: { ...clash.database!, user: clash.database!.name },
            tls: false,
          },
        ],
      });
      await save('provisionAccount-rolled-back', id);
      await save('deprovisionAccount-completed', await post(`/api/v1/accounts/${a.username}`, undefined, 'DELETE'));
      const gone = workflowIds.deprovision(a.username, `r${Date.now()}`);
      await client.workflow.start('deprovisionAccount', {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowId: gone,
        args: [{ username: a.username }],
      });
      await save('deprovisionAccount-not-found', gone);
    },
    async certificate() {
      // provisionAccount with tls runs renewCertificate as a child: both histories are kept.
      const a = accountBody('rpc', { tls: true, password: fixedPassword });
      const wf = await save('provisionAccount-with-tls', await post('/api/v1/accounts', a));
      const children = await client.workflow.list({ query: `WorkflowType = 'renewCertificate' AND NpanelDomain = '${a.domain}'` });
      for await (const child of children) await save('renewCertificate-completed', child.workflowId);
      await save('renewCertificate-renewed', await post(`/api/v1/certificates/${a.domain}/renew`));
      if (wf.status !== 'completed') return;
      // Deprovisioning removes the certificates in a child removeCertificate under the same per-domain ID.
      await save('deprovisionAccount-with-tls', await post(`/api/v1/accounts/${a.username}`, undefined, 'DELETE'));
      await save('removeCertificate-completed', workflowIds.certificate(a.domain));
    },
    async migrate() {
      const account = uniqueName('rpm');
      await save(
        'migrateSite-completed',
        await post('/api/v1/migrations', migrationBody(stack, { account, domain: `${account}.example`, databases: ['shop'] })),
      );
      await post(`/api/v1/accounts/${account}`, undefined, 'DELETE').then((id) => waitClosed(id));
    },
    async sweep() {
      const id = `sweep-replay-${Date.now()}`;
      await client.workflow.start('certificateRenewalSweep', {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowId: id,
        args: [{ renewWithinDays: 30 }],
      });
      await save('certificateRenewalSweep-completed', id);
    },
    async prune() {
      const id = `prune-replay-${Date.now()}`;
      await client.workflow.start('pruneAuditEvents', {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowId: id,
        args: [{ keepDays: 3650, batchSize: 100 }],
      });
      await save('pruneAuditEvents-completed', id);
    },
  };

  try {
    for (const [name, run] of Object.entries(cases)) {
      if (wanted.size && !wanted.has(name)) continue;
      try {
        await run();
      } catch (err) {
        process.exitCode = 1;
        process.stderr.write(`case ${name} failed: ${(err as Error).message}\n`);
      }
    }
  } finally {
    await connection.close();
  }
}

void main();
