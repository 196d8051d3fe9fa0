import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { WORKFLOW_TYPES } from '../common/workflow-types';
import { diskUsage, memoryUsage } from './metrics-host';
import type { CertificateReading, InventoryReadings } from './metrics-inventory';
import { createRegistry, HTTP_BUCKETS } from './metrics';

const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;

/** Per-domain certificate series up to this many domains; beyond it only the earliest expiry is exported. */
export const MAX_CERTIFICATE_SERIES = 2000;

/** A scrape-time reading slower than this is dropped from that scrape (Prometheus' default timeout is 10 s). */
const COLLECT_TIMEOUT_MS = 2000;

export interface ApiMetricSources {
  temporal?: Client;
  namespace?: string;
  /** Task queues that must have pollers: the control queue (workflow + activity) and each node's. */
  taskQueues?: () => Promise<{ queue: string; kind: 'workflow' | 'activity' }[]>;
  inventory?: InventoryReadings;
  diskPaths?: string[];
}

/**
 * The API's registry. RED metrics are fed by the metrics plugin's onResponse hook; everything else is read
 * at scrape time (collect), so a number is never older than the scrape and nothing polls in between:
 * workflows awaiting an operator (Temporal visibility), certificates and migrations (inventory), database
 * connections, host disk and memory. Readiness check results are recorded by the health plugin.
 */
export function createApiMetrics(sources: ApiMetricSources) {
  const registry: Registry = createRegistry();
  const r = [registry];
  const requests = new Counter({
    name: 'npanel_http_requests_total',
    help: 'HTTP requests by route pattern, method and status code',
    labelNames: ['route', 'method', 'status_code'] as const,
    registers: r,
  });
  const duration = new Histogram({
    name: 'npanel_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern, method and status code (event streams excluded)',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: r,
  });
  const checkUp = new Gauge({
    name: 'npanel_health_check_up',
    help: '1 when the readiness check passed at its last run, 0 when it failed',
    labelNames: ['check', 'critical'] as const,
    registers: r,
  });
  const checkLatency = new Gauge({
    name: 'npanel_health_check_latency_seconds',
    help: 'Latency of the last run of each readiness check',
    labelNames: ['check'] as const,
    registers: r,
  });
  const checkFailures = new Counter({
    name: 'npanel_health_check_failures_total',
    help: 'Failed runs of each readiness check (ssh, dns: the failure-spike alerts)',
    labelNames: ['check'] as const,
    registers: r,
  });
  const collectErrors = new Counter({
    name: 'npanel_metrics_collect_errors_total',
    help: 'Scrape-time readings that failed or timed out (their series are left out of that scrape)',
    labelNames: ['metric'] as const,
    registers: r,
  });

  /**
   * A reading that fails (database down) or hangs (database frozen) must not take the whole exposition with
   * it: the scrape still shows the RED and readiness metrics that describe the outage.
   */
  const guarded = <T>(metric: string, read: () => Promise<T>): Promise<T | undefined> =>
    Promise.race([
      read(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), COLLECT_TIMEOUT_MS).unref()),
    ]).catch(() => {
      collectErrors.inc({ metric });
      return undefined;
    });

  if (sources.temporal) {
    const client = sources.temporal;
    new Gauge({
      name: 'npanel_workflows_awaiting_operator',
      help: 'Running workflows waiting for an operator decision (NpanelStatus=awaiting_operator), by type',
      labelNames: ['type'] as const,
      registers: r,
      async collect() {
        this.reset();
        const base = 'NpanelStatus="awaiting_operator" AND ExecutionStatus="Running"';
        const counts = await guarded('npanel_workflows_awaiting_operator', async () => {
          const total = (await client.workflow.count(base)).count;
          const byType: [string, number][] = [['all', total]];
          // Per-type queries only when there is something to split (visibility cannot GROUP BY type).
          for (const type of total > 0 ? WORKFLOW_TYPES : [])
            byType.push([type, (await client.workflow.count(`${base} AND WorkflowType="${type}"`)).count]);
          return byType;
        });
        for (const [type, n] of counts ?? []) if (type === 'all' || n > 0) this.set({ type }, n);
      },
    });
  }

  if (sources.temporal && sources.taskQueues) {
    const { workflowService } = sources.temporal;
    const listQueues = sources.taskQueues;
    const namespace = sources.namespace ?? 'default';
    new Gauge({
      name: 'npanel_task_queue_pollers',
      help: 'Pollers Temporal sees on each task queue NPanel needs (0: no worker serves it; node queues come from the inventory)',
      labelNames: ['task_queue', 'kind'] as const,
      registers: r,
      async collect() {
        this.reset();
        const rows = await guarded('npanel_task_queue_pollers', async () =>
          Promise.all(
            (await listQueues()).map(async ({ queue, kind }) => {
              const res = await workflowService.describeTaskQueue({
                namespace,
                taskQueue: { name: queue },
                taskQueueType: kind === 'workflow' ? TASK_QUEUE_TYPE_WORKFLOW : TASK_QUEUE_TYPE_ACTIVITY,
              });
              return [queue, kind, (res.pollers ?? []).length] as const;
            }),
          ),
        );
        for (const [queue, kind, n] of rows ?? []) this.set({ task_queue: queue, kind }, n);
      },
    });
  }

  if (sources.inventory) {
    const inv = sources.inventory;
    // Three gauges read the certificates: one query per scrape, shared.
    let certCache: { at: number; rows: Promise<CertificateReading[] | undefined> } | null = null;
    const certs = () => {
      if (!certCache || Date.now() - certCache.at > 1000)
        certCache = { at: Date.now(), rows: guarded('certificates', () => inv.certificates()) };
      return certCache.rows.then((rows) => rows ?? []);
    };
    let migCache: { at: number; rows: Promise<{ bytes: number; byStatus: Record<string, number> } | undefined> } | null = null;
    const migs = () => {
      if (!migCache || Date.now() - migCache.at > 1000) migCache = { at: Date.now(), rows: guarded('migrations', () => inv.migrations()) };
      return migCache.rows;
    };
    new Gauge({
      name: 'npanel_certificate_expiry_timestamp_seconds',
      help: `Expiry (notAfter, Unix seconds) of each certificate in the inventory, for up to ${MAX_CERTIFICATE_SERIES} domains`,
      labelNames: ['domain'] as const,
      registers: r,
      async collect() {
        this.reset();
        const withExpiry = (await certs()).filter((c) => c.notAfter);
        for (const c of withExpiry.slice(0, MAX_CERTIFICATE_SERIES)) this.set({ domain: c.domain }, c.notAfter!.getTime() / 1000);
      },
    });
    new Gauge({
      name: 'npanel_certificate_earliest_expiry_timestamp_seconds',
      help: 'The earliest certificate expiry in the inventory (Unix seconds); absent when there is none',
      registers: r,
      async collect() {
        this.reset();
        const times = (await certs()).flatMap((c) => (c.notAfter ? [c.notAfter.getTime() / 1000] : []));
        if (times.length) this.set(Math.min(...times));
      },
    });
    new Gauge({
      name: 'npanel_certificates',
      help: 'Certificates in the inventory by the outcome of their last issuance/renewal attempt (none = never attempted)',
      labelNames: ['last_outcome'] as const,
      registers: r,
      async collect() {
        this.reset();
        for (const outcome of ['issued', 'renewed', 'failed', 'rolled_back']) this.set({ last_outcome: outcome }, 0);
        for (const c of await certs()) this.inc({ last_outcome: c.lastOutcome ?? 'none' });
      },
    });
    new Counter({
      name: 'npanel_migration_bytes_moved_total',
      help: 'Bytes copied by site migrations, summed over the inventory (migration rows are never deleted)',
      registers: r,
      async collect() {
        const m = await migs();
        if (!m) return; // keep the last value rather than dropping a counter to zero
        this.reset();
        this.inc(m.bytes);
      },
    });
    new Gauge({
      name: 'npanel_migrations',
      help: 'Site migrations in the inventory by status',
      labelNames: ['status'] as const,
      registers: r,
      async collect() {
        this.reset();
        for (const [status, n] of Object.entries((await migs())?.byStatus ?? {})) this.set({ status }, n);
      },
    });
    const connections = new Gauge({
      name: 'npanel_db_connections',
      help: 'Connections the inventory database server holds (Threads_connected)',
      registers: r,
    });
    new Gauge({
      name: 'npanel_db_max_connections',
      help: "The inventory database server's max_connections",
      registers: r,
      async collect() {
        const reading = await guarded('db_connections', () => inv.dbConnections());
        if (!reading) return;
        this.set(reading.max);
        connections.set(reading.connected);
      },
    });
  }

  const diskPaths = sources.diskPaths ?? ['/'];
  new Gauge({
    name: 'npanel_host_disk_free_ratio',
    help: 'Share of the filesystem still free (0..1) for each configured path',
    labelNames: ['path'] as const,
    registers: r,
    async collect() {
      for (const d of (await guarded('npanel_host_disk_free_ratio', () => diskUsage(diskPaths))) ?? [])
        this.set({ path: d.path }, d.freePercent / 100);
    },
  });
  new Gauge({
    name: 'npanel_host_memory_used_ratio',
    help: 'Share of host memory in use (1 - MemAvailable/MemTotal)',
    registers: r,
    async collect() {
      const m = await guarded('npanel_host_memory_used_ratio', () => memoryUsage());
      if (m) this.set(m.usedPercent / 100);
    },
  });

  return { registry, requests, duration, checkUp, checkLatency, checkFailures };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
