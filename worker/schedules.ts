import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Logger } from 'pino';
import { WORKFLOW_REGISTRY } from '../common/workflow-types';
import type { NpanelConfig } from '../config/schema';
import type { CertificateRenewalSweepInput } from '../workflows/certificate-renewal-sweep';
import type { PruneAuditEventsInput } from '../workflows/prune-audit-events';

const OVERLAP: Record<'skip' | 'buffer_one' | 'allow_all', ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** The certificate sweep's Schedule as temporal.yaml describes it (its workflow ID gets a timestamp per run). */
export function certificateSweepSchedule(config: NpanelConfig): ScheduleOptions {
  const s = config.temporal.schedules.certificateRenewalSweep;
  const args: [CertificateRenewalSweepInput] = [{ renewWithinDays: s.renewWithinDays, maxConcurrent: s.maxConcurrent, paceMs: s.paceMs }];
  return {
    scheduleId: s.id,
    spec: { intervals: [{ every: s.every as Duration }], jitter: s.jitter as Duration },
    action: {
      type: 'startWorkflow',
      workflowType: 'certificateRenewalSweep',
      workflowId: s.id,
      taskQueue: WORKFLOW_REGISTRY.certificateRenewalSweep.taskQueue,
      args,
    },
    policies: { overlap: OVERLAP[s.overlap], catchupWindow: '1h' },
  };
}

/** The audit retention job's Schedule (temporal.yaml schedules.auditRetention: keepDays, batchSize). */
export function auditRetentionSchedule(config: NpanelConfig): ScheduleOptions {
  const s = config.temporal.schedules.auditRetention;
  const args: [PruneAuditEventsInput] = [{ keepDays: s.keepDays, batchSize: s.batchSize }];
  return {
    scheduleId: s.id,
    spec: { intervals: [{ every: s.every as Duration }], jitter: s.jitter as Duration },
    action: {
      type: 'startWorkflow',
      workflowType: 'pruneAuditEvents',
      workflowId: s.id,
      taskQueue: WORKFLOW_REGISTRY.pruneAuditEvents.taskQueue,
      args,
    },
    policies: { overlap: OVERLAP[s.overlap], catchupWindow: '1h' },
  };
}

/**
 * Creates the Schedule, or brings an existing one in line with the config (a changed interval or window in
 * temporal.yaml takes effect at the next worker start). Idempotent: every control worker calls it at start;
 * two workers racing both end with the same Schedule. The client must carry the payload codec: the action's
 * arguments are payloads like any other.
 */
export async function ensureSchedules(client: Client, config: NpanelConfig, log: Logger): Promise<void> {
  for (const options of [certificateSweepSchedule(config), auditRetentionSchedule(config)]) await ensureSchedule(client, options, log);
}

async function ensureSchedule(client: Client, options: ScheduleOptions, log: Logger): Promise<void> {
  try {
    await client.schedule.create(options);
    log.info({ scheduleId: options.scheduleId }, 'schedule created');
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(options.scheduleId).update((prev) => ({
      ...prev,
      spec: options.spec,
      action: options.action,
      policies: { ...prev.policies, ...options.policies },
    }));
    log.info({ scheduleId: options.scheduleId }, 'schedule updated');
  }
}
