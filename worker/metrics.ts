import { CancelledFailure } from '@temporalio/common';
import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import { Counter, type Registry } from 'prom-client';
import { nginxReloadCount } from '../activities/nginx-reloader';
import { createRegistry, createWorkerMetrics, type WorkerMetrics, type WorkflowOutcome } from '../lib/metrics';
import type { MetricsSinks } from '../workflows/outcome-interceptor';

export interface WorkerTelemetry {
  registry: Registry;
  metrics: WorkerMetrics;
  sinks: InjectedSinks<MetricsSinks>;
  activityInterceptors: ActivityInterceptorsFactory[];
}

/**
 * The worker's application metrics. Workflow outcomes arrive through the `metrics` sink (called by
 * workflows/outcome-interceptor.ts, never during replay); activity durations come from an activity
 * interceptor wrapped around every activity of both queues; nginx reloads are read from the node's reloader
 * at scrape time (the reloader already counts them).
 */
export function createWorkerTelemetry(opts: { node: string; nginxConf?: string }): WorkerTelemetry {
  const registry = createRegistry();
  const metrics = createWorkerMetrics(registry);
  if (opts.nginxConf) {
    const conf = opts.nginxConf;
    new Counter({
      name: 'npanel_nginx_reloads_total',
      help: 'nginx reloads done by this node worker (batched: many vhost changes, one reload)',
      labelNames: ['node'] as const,
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ node: opts.node }, nginxReloadCount(conf));
      },
    });
  }

  const sinks: InjectedSinks<MetricsSinks> = {
    metrics: {
      workflowStarted: { fn: (info) => metrics.workflowsStarted.inc({ type: info.workflowType }) },
      workflowClosed: {
        fn: (info, outcome: WorkflowOutcome) => {
          metrics.workflowsClosed.inc({ type: info.workflowType, outcome });
          // runStartTime: this run (a continue-as-new chain counts each run on its own).
          const seconds = Math.max(0, (Date.now() - info.runStartTime.getTime()) / 1000);
          metrics.workflowDuration.observe({ type: info.workflowType, outcome }, seconds);
        },
      },
    },
  };

  const activityInterceptors: ActivityInterceptorsFactory[] = [
    (ctx: ActivityContext) => ({
      inbound: {
        async execute(input, next) {
          const labels = { type: ctx.info.activityType, task_queue: ctx.info.taskQueue };
          const end = metrics.activityDuration.startTimer(labels);
          try {
            const result = await next(input);
            end({ outcome: 'ok' });
            return result;
          } catch (err) {
            end({ outcome: err instanceof CancelledFailure || (err as Error)?.name === 'AbortError' ? 'cancelled' : 'failed' });
            throw err;
          }
        },
      },
    }),
  ];

  return { registry, metrics, sinks, activityInterceptors };
}
