import { upsertSearchAttributes } from '@temporalio/workflow';
import type { WorkflowPhase } from '../common/constants';
import { saKeys } from '../common/search-attribute-keys';
import type { StepTracker } from './steps';

/** Keeps NpanelStatus (visible in Temporal Web and API filters) and the progress phase in step. */
export function setPhase(tracker: StepTracker, phase: WorkflowPhase): void {
  tracker.phase = phase;
  upsertSearchAttributes([{ key: saKeys.status, value: phase }]);
}
