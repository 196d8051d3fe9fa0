import { proxyActivities, proxyLocalActivities, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { ControlActivities, NodeActivities } from '../activities';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../common/task-queues';
import type { createAuditRetentionActivities } from '../activities/audit-retention';
import { RETRY_PROFILES } from './retry-profiles';

/**
 * Every activity proxy of the workflows, named by its queue and retry profile (workflows/retry-profiles.ts),
 * never by whether a step goes forward or back: a `persistent` proxy runs compensations and the bookkeeping
 * that must happen (audit, status records, removals) alike. Node-queue activities carry a schedule-to-close
 * timeout: a dead node leaves its queue unpolled and the step must fail, not wait forever. PowerDNS keeps the
 * short forward profile: a dead DNS server rolls the account back within seconds.
 */
const { forward: forwardRetry, persistent: persistentRetry, inventory: inventoryRetry, migration: migrationRetry } = RETRY_PROFILES;

/** Control-queue activities that talk to PowerDNS rather than the inventory. */
const DNS_ACTIVITIES = new Set<string>([
  'ensureDnsZone',
  'deleteDnsZone',
  'getDnsRecords',
  'setDnsRecords',
] satisfies (keyof ControlActivities)[]);

export function controlActivities(): ActivityInterfaceFor<ControlActivities> {
  const dns = proxyActivities<ControlActivities>({ taskQueue: CONTROL_TASK_QUEUE, startToCloseTimeout: '30s', retry: forwardRetry });
  const inventory = proxyActivities<ControlActivities>({
    taskQueue: CONTROL_TASK_QUEUE,
    startToCloseTimeout: '30s',
    retry: inventoryRetry,
  });
  return new Proxy({} as ActivityInterfaceFor<ControlActivities>, {
    get: (_target, name) => (typeof name === 'string' && DNS_ACTIVITIES.has(name) ? dns : inventory)[name as keyof ControlActivities],
  });
}

export function controlPersistentActivities() {
  return proxyActivities<ControlActivities>({ taskQueue: CONTROL_TASK_QUEUE, startToCloseTimeout: '30s', retry: persistentRetry });
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

export function controlLocalPersistentActivities() {
  return proxyLocalActivities<ControlActivities>({ startToCloseTimeout: '30s', retry: persistentRetry });
}

export function nodeActivities(node: string) {
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '2m',
    retry: forwardRetry,
  });
}

export function nodePersistentActivities(node: string) {
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '10m',
    retry: persistentRetry,
  });
}

/**
 * Migration steps: long activities (hours for big sites) that heartbeat, so a killed worker's attempt is
 * retried ~10 s later instead of at the start-to-close timeout.
 */
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
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '2m',
    scheduleToCloseTimeout: '10m',
    retry: migrationRetry,
  });
}

/** The ACME order on the node: it heartbeats every second, so a worker killed mid-order is retried after 10 s, not 5 min. */
export function acmeOrderActivities(node: string) {
  return proxyActivities<NodeActivities>({
    taskQueue: nodeTaskQueue(node),
    startToCloseTimeout: '5m',
    heartbeatTimeout: '10s',
    scheduleToCloseTimeout: '15m',
    retry: RETRY_PROFILES.acmeOrder,
  });
}

/** The audit retention batch (control queue). */
export function auditRetentionActivities() {
  return proxyActivities<ReturnType<typeof createAuditRetentionActivities>>({
    taskQueue: CONTROL_TASK_QUEUE,
    startToCloseTimeout: '2m',
    retry: RETRY_PROFILES.auditBatch,
  });
}
