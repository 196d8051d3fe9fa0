import { continueAsNew, defineQuery, log, ParentClosePolicy, setHandler, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import { saKeys } from '../common/search-attribute-keys';
import { workflowIds } from '../common/workflow-ids';
import { PROGRESS_QUERIES, WORKFLOW_REGISTRY } from '../common/workflow-types';
import { controlActivities } from './activity-proxies';
import { applicationCause, renewCertificate } from './renew-certificate';
import { FAILURE } from '../common/failure-types';

export interface SweepTotals {
  /** Due certificates taken from the inventory. */
  due: number;
  renewed: number;
  failed: number;
  rateLimited: number;
  /** A renewal of that domain was already running (manual, or a sweep the same day). */
  skipped: number;
  /** Most renewals running at once, over every run of this sweep. */
  maxInFlight: number;
  /** Runs of this sweep (continue-as-new count + 1). */
  runs: number;
  /** True when the CA asked to wait longer than maxBackoffSeconds: the rest waits for the next sweep. */
  stoppedForRateLimit: boolean;
}

export interface CertificateRenewalSweepInput {
  renewWithinDays?: number;
  maxConcurrent?: number;
  /** Minimum time between two renewal starts (requests to the CA are paced, not bursted). */
  paceMs?: number;
  pageSize?: number;
  /** Continue-as-new once the history holds this many events (minus room to drain the window). */
  historyLimit?: number;
  /** A Retry-After longer than this ends the sweep instead of sleeping through it. */
  maxBackoffSeconds?: number;
  // Carried across continue-as-new:
  cutoff?: string;
  afterId?: number;
  pausedUntil?: number;
  totals?: SweepTotals;
}

export const sweepProgressQuery = defineQuery<{ totals: SweepTotals; inFlight: number; afterId: number; pausedUntil: number | null }>(
  PROGRESS_QUERIES.sweep,
);

const DAY_MS = 86_400_000;
/** Events a renewal in flight may still add while the window drains before continue-as-new (measured ~7). */
const EVENTS_PER_RENEWAL = 12;

/**
 * Renews every certificate that expires within the window (or was never issued), as child workflows with at
 * most `maxConcurrent` running (a sliding window: a new one starts as soon as one ends), paced, and backing off
 * as long as the CA's 429 Retry-After asks (the limited domain is left to the next sweep: no retry loop).
 * Pages through the inventory by id; when history grows it drains the window and continues as new from the
 * last id started, so no run's history grows with the fleet.
 */
export async function certificateRenewalSweep(input: CertificateRenewalSweepInput = {}): Promise<SweepTotals> {
  const days = input.renewWithinDays ?? 30;
  const maxConcurrent = Math.max(1, input.maxConcurrent ?? 5);
  const paceMs = Math.max(0, input.paceMs ?? 0);
  const pageSize = input.pageSize ?? 500;
  const historyLimit = (input.historyLimit ?? 3_000) - maxConcurrent * EVENTS_PER_RENEWAL;
  const maxBackoffMs = (input.maxBackoffSeconds ?? 6 * 3600) * 1000;
  const cutoff = input.cutoff ?? new Date(Date.now() + days * DAY_MS).toISOString();
  const totals: SweepTotals = input.totals
    ? { ...input.totals, runs: input.totals.runs + 1 }
    : { due: 0, renewed: 0, failed: 0, rateLimited: 0, skipped: 0, maxInFlight: 0, runs: 1, stoppedForRateLimit: false };
  let afterId = input.afterId ?? 0;
  let pausedUntil = input.pausedUntil ?? 0;
  let lastStart = 0;
  const inFlight = new Set<Promise<void>>();
  const control = controlActivities();
  setHandler(sweepProgressQuery, () => ({ totals: { ...totals }, inFlight: inFlight.size, afterId, pausedUntil: pausedUntil || null }));

  const renew = async (domain: string): Promise<void> => {
    try {
      const child = await startChild(renewCertificate, {
        // The domain's certificate ID: a domain with an operation running (an API renewal, a deprovisioning)
        // is skipped below, never renewed beside it.
        workflowId: workflowIds.certificate(domain),
        taskQueue: WORKFLOW_REGISTRY.renewCertificate.taskQueue,
        args: [{ domain }],
        // A renewal is its own saga: if the sweep is terminated, it still finishes (or rolls back) cleanly.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: saKeys.domain, value: domain },
          { key: saKeys.status, value: 'running' },
        ],
      });
      await child.result();
      totals.renewed++;
    } catch (err) {
      // (@temporalio/workflow does not export the class; its name is stable API.)
      if ((err as Error).name === 'WorkflowExecutionAlreadyStartedError') {
        totals.skipped++;
        return;
      }
      const cause = applicationCause(err);
      if (cause.type === FAILURE.AcmeRateLimited) {
        totals.rateLimited++;
        const seconds = Number((cause.details[0] as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 3600);
        pausedUntil = Math.max(pausedUntil, Date.now() + seconds * 1000);
        log.warn('CA rate limit: pausing new renewals', { domain, retryAfterSeconds: seconds });
      } else {
        totals.failed++;
      }
    }
  };

  const historyFull = () => workflowInfo().historyLength >= historyLimit || workflowInfo().continueAsNewSuggested;
  const drain = () => Promise.all([...inFlight]);

  for (;;) {
    if (historyFull()) break;
    const page = await control.listDueCertificates({ before: cutoff, afterId, limit: pageSize });
    for (const item of page.items) {
      while (inFlight.size >= maxConcurrent) await Promise.race(inFlight);
      if (pausedUntil > Date.now()) {
        if (pausedUntil - Date.now() > maxBackoffMs) {
          totals.stoppedForRateLimit = true;
          await drain();
          return totals;
        }
        await sleep(pausedUntil - Date.now());
      }
      if (paceMs > 0 && Date.now() - lastStart < paceMs) await sleep(paceMs - (Date.now() - lastStart));
      if (historyFull()) break;
      lastStart = Date.now();
      afterId = item.id;
      totals.due++;
      const p: Promise<void> = renew(item.domain).finally(() => inFlight.delete(p));
      inFlight.add(p);
      totals.maxInFlight = Math.max(totals.maxInFlight, inFlight.size);
    }
    if (historyFull()) break;
    if (page.items.length < pageSize) {
      await drain();
      log.info('certificate sweep done', { ...totals });
      return totals;
    }
  }
  await drain();
  return continueAsNew<typeof certificateRenewalSweep>({ ...input, cutoff, afterId, pausedUntil, totals });
}
