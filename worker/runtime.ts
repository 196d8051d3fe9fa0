import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';

const LEVELS: Record<string, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Routes the SDK's logs (workflow `log`, activity `log`, core) into pino. The SDK puts the workflow ID into
 * the metadata of every workflow and activity line: we lift it to `correlationId`, the name every NPanel log
 * line uses. Must run before any worker or native connection exists.
 */
export function installRuntime(log: Logger, metricsPort: number): void {
  const forward = (entry: LogEntry) => {
    const meta = { ...(entry.meta ?? {}) } as Record<string, unknown>;
    const correlationId = meta.workflowId ?? undefined;
    log[LEVELS[entry.level] ?? 'info']({ ...meta, correlationId, source: 'temporal-sdk' }, entry.message);
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', forward),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      // The SDK's runtime metrics (task slots, poll latency, schedule-to-start) on the worker's own port.
      metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}`, countersTotalSuffix: true, useSecondsForDurations: true } },
    },
  });
}
