import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { HostingNode, StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { processEnv } from '../env';
import { connectTemporal, stackTemporalTarget, type StackTemporalTarget } from '../temporal-target';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../../common/task-queues';

const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;

/**
 * True once some worker polls the queue: the same check `/health/ready` and operators use. With `pid`, only
 * that process counts (SDK identity `<pid>@<host>`): Temporal lists a dead worker's poller for a while.
 */
export async function queueHasPollers(
  where: string | StackTemporalTarget,
  queue: string,
  type: 'workflow' | 'activity',
  pid?: number,
): Promise<boolean> {
  // A bare address is the dev server's (namespace default, no TLS).
  const target = typeof where === 'string' ? { address: where, namespace: 'default' } : where;
  const connection = await connectTemporal(target);
  try {
    const res = await connection.workflowService.describeTaskQueue({
      namespace: target.namespace,
      taskQueue: { name: queue },
      taskQueueType: type === 'workflow' ? TASK_QUEUE_TYPE_WORKFLOW : TASK_QUEUE_TYPE_ACTIVITY,
    });
    return (res.pollers ?? []).some((p) => pid === undefined || p.identity?.startsWith(`${pid}@`));
  } finally {
    await connection.close();
  }
}

/** A worker process for one hosting node (roles: control = workflows + control activities; node = local ones). */
export function startWorker(ctx: StackContext, node: HostingNode, roles: ('control' | 'node')[]): Promise<RunningDaemon> {
  const target = stackTemporalTarget(ctx);
  return startDaemon({
    name: node.id === ctx.nodeId ? 'worker' : `worker-${node.id}`,
    command: process.execPath,
    args: [path.join(ctx.root, 'dist', 'worker', 'main.js')],
    env: { ...process.env, ...processEnv(ctx, node, roles) },
    logDir: ctx.logDir,
    readyTimeoutMs: 60_000,
    ready: async () =>
      (!roles.includes('control') || (await queueHasPollers(target, CONTROL_TASK_QUEUE, 'workflow'))) &&
      (!roles.includes('node') || (await queueHasPollers(target, nodeTaskQueue(node.id), 'activity'))),
  });
}

export function startApi(ctx: StackContext, node: HostingNode): Promise<RunningDaemon> {
  return startDaemon({
    name: 'api',
    command: process.execPath,
    args: [path.join(ctx.root, 'dist', 'api', 'server.js')],
    env: { ...process.env, ...processEnv(ctx, node, ['control'], 'api') },
    logDir: ctx.logDir,
    readyTimeoutMs: 30_000,
    ready: async () => (await fetch(`http://127.0.0.1:${ctx.ports.api}/health`, { signal: AbortSignal.timeout(1000) })).ok,
  });
}
