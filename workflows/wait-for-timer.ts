import { defineQuery, log, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { PROGRESS_QUERIES } from '../common/workflow-types';

export interface WaitForTimerInput {
  /** Milliseconds to sleep on a durable timer. */
  ms: number;
  label?: string;
}

export const timerProgressQuery = defineQuery<{ startedAt: string; fireAt: string }>(PROGRESS_QUERIES.timer);

/**
 * A workflow that only waits on a durable timer. Operators use it to check that a stack (worker + Temporal)
 * runs workflows and survives restarts: the timer fires even if everything was down in between.
 */
export async function waitForTimer(input: WaitForTimerInput): Promise<{ label?: string; firedAfterMs: number }> {
  const startedAt = workflowInfo().startTime;
  setHandler(timerProgressQuery, () => ({
    startedAt: startedAt.toISOString(),
    fireAt: new Date(startedAt.getTime() + input.ms).toISOString(),
  }));
  log.info('timer started', { ms: input.ms });
  await sleep(input.ms);
  return { label: input.label, firedAfterMs: Date.now() - startedAt.getTime() };
}
