import { proxyActivities, proxyLocalActivities, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { ControlActivities, NodeActivities } from '../activities';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../common/task-queues';

/**
 * Named timeout/retry profiles. Forward steps give up after ~3 s of retries (5 attempts, 200 ms doubling) so a
 * dead service turns into a clean rollback quickly; compensations retry far longer, because leaving a
 * half-made account is worse than waiting. Node-queue activities carry a schedule-to-close timeout: a dead
 * node leaves its queue unpolled and the step must fail, not wait forever.
 */
const forwardRetry = { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 } as const;
const undoRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 20 } as const;

/**
 * The inventory (MariaDB) is the control plane's own store, not a service of the account: when it is down no
 * step can proceed and no rollback can be recorded either (every undo ends in the inventory), so rolling back
 * on an inventory outage would only trade one stuck state for another. Its activities wait out a restart or
 * a failover (~1.5 min of retries, 5 s apart at most); input errors stay non-retryable and fail at once.
 * PowerDNS keeps the short forward profile: a dead DNS server rolls the account back within seconds.
 */
const inventoryRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 20 } as const;
/** Control-queue activities that talk to PowerDNS rather than the inventory. */
const DNS_ACTIVITIES = new Set<string>(['ensureDnsZone', 'deleteDnsZone', 'getDnsRecords', 'setDnsRecords'] satisfies (keyof ControlActivities)[]);

export function controlActivities(): ActivityInterfaceFor<ControlActivities> {
  const dns = proxyActivities<ControlActivities>({ taskQueue: CONTROL_TASK_QUEUE, startToCloseTimeout: '30s', retry: forwardRetry });
  const inventory = proxyActivities<ControlActivities>({ taskQueue: CONTROL_TASK_QUEUE, startToCloseTimeout: '30s', retry: inventoryRetry });
  return new Proxy({} as ActivityInterfaceFor<ControlActivities>, {
    get: (_target, name) => (typeof name === 'string' && DNS_ACTIVITIES.has(name) ? dns : inventory)[name as keyof ControlActivities],
  });
}

export function controlUndoActivities() {
  return proxyActivities<ControlActivities>({ taskQueue: CONTROL_TASK_QUEUE, startToCloseTimeout: '30s', retry: undoRetry });
}

/**
 * The inventory steps of a workflow as LOCAL activities: they run in the worker that runs the workflow (the
 * control worker, which has the inventory database), with no task queue round trip, and each leaves one marker
 * event instead of three events and a workflow task. Measured on provisioning (bench/provision.ts): reserve,
 * record+activate and the audit flush as local activities took the history from 66 to ~40 events and the
 * Temporal server's CPU per account down by about a third. Same retry profiles as the queued versions.
 * Only for activities that need nothing but the inventory: a node worker never runs these.
 */
export function controlLocalActivities() {
  return proxyLocalActivities<ControlActivities>({ startToCloseTimeout: '30s', retry: inventoryRetry });
}

export function controlLocalUndoActivities() {
  return proxyLocalActivities<ControlActivities>({ startToCloseTimeout: '30s', retry: undoRetry });
}

export function nodeActivities(node: string) {
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '2m',
    retry: forwardRetry,
  });
}

export function nodeUndoActivities(node: string) {
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '10m',
    retry: undoRetry,
  });
}

/**
 * Migration steps: long activities (hours for big sites) that heartbeat, so a killed worker's attempt is
 * retried ~10 s later instead of at the start-to-close timeout. Few, spaced retries: what still fails after
 * ~15 s of tries is an operator matter (the operator gate), not something more retries would fix.
 */
const migrationRetry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 4 } as const;

export function migrationActivities(node: string) {
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '6h',
    heartbeatTimeout: '10s',
    scheduleToCloseTimeout: '12h',
    retry: migrationRetry,
  });
}

/** Short migration steps on the node (preflight, verification): no heartbeat, minutes at most. */
export function migrationShortActivities(node: string) {
  return proxyActivities<NodeActivities>({ taskQueue: nodeTaskQueue(node), startToCloseTimeout: '2m', scheduleToCloseTimeout: '10m', retry: migrationRetry });
}
