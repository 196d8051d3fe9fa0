import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What API and worker share about metrics: one registry per process (no global default registry, so tests can
 * build several apps in one process) with the Node process metrics, and the bucket sets. Names are
 * `npanel_<thing>_<unit>` with `_total` on counters: the alert rules, dashboards and the test that checks them
 * against the exposition (test/unit/dashboards.test.ts) all rely on these exact names.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named *_total break the exposition conventions (`promtool check metrics` refuses them); the same
  // numbers remain, split by type, in nodejs_active_handles / _requests / _resources.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  return registry;
}

/** HTTP requests: most answer in milliseconds; the p95 > 1 s alert needs resolution around 1 s. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Activities: from a 2 ms inventory write to a file sync of many minutes. */
export const ACTIVITY_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Workflows: a provisioning takes about a second, a migration hours, a gate may wait for days. */
export const WORKFLOW_BUCKETS = [0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600];

/** How a workflow run ended, as counted by the worker (workflows/outcome-interceptor.ts decides). */
export const WORKFLOW_OUTCOMES = ['completed', 'failed', 'rolled_back', 'cancelled', 'continued_as_new'] as const;
export type WorkflowOutcome = (typeof WORKFLOW_OUTCOMES)[number];

/** The worker's own metrics (the SDK's runtime metrics come from its exporter and are merged in). */
export function createWorkerMetrics(registry: Registry) {
  return {
    workflowsStarted: new Counter({
      name: 'npanel_workflows_started_total',
      help: 'Workflow runs started on this worker, by workflow type (replays not counted)',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    workflowsClosed: new Counter({
      name: 'npanel_workflows_closed_total',
      help: 'Workflow runs that ended, by type and outcome (completed, failed, rolled_back, cancelled, continued_as_new)',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    }),
    workflowDuration: new Histogram({
      name: 'npanel_workflow_duration_seconds',
      help: 'Wall time from the start of a workflow run to its end, by type and outcome',
      labelNames: ['type', 'outcome'] as const,
      buckets: WORKFLOW_BUCKETS,
      registers: [registry],
    }),
    activityDuration: new Histogram({
      name: 'npanel_activity_duration_seconds',
      help: 'Duration of one activity attempt, by activity type, task queue and outcome (ok, failed, cancelled)',
      labelNames: ['type', 'task_queue', 'outcome'] as const,
      buckets: ACTIVITY_BUCKETS,
      registers: [registry],
    }),
    sdkUp: new Gauge({
      name: 'npanel_worker_sdk_metrics_up',
      help: '1 when the Temporal SDK runtime metrics could be read for this exposition',
      registers: [registry],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
