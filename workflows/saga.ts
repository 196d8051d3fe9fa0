import { CancellationScope } from '@temporalio/workflow';
import { errorMessage, type StepTracker } from './steps';

interface Compensation {
  step: string;
  undo: () => Promise<unknown>;
}

/**
 * Compensations of the steps begun so far. A step registers its undo BEFORE it runs: if the activity did its
 * work but the answer was lost (timeout, crash), the undo still runs, and undos are idempotent
 * (delete-if-present), so undoing something that never happened is harmless.
 */
export class Saga {
  private readonly compensations: Compensation[] = [];

  constructor(private readonly tracker: StepTracker) {}

  add(step: string, undo: () => Promise<unknown>): void {
    this.compensations.push({ step, undo });
  }

  /**
   * Runs every compensation in reverse order inside a non-cancellable scope (a cancelled workflow must still
   * clean up). One failing undo does not stop the others; the failures are returned for the error message.
   */
  async compensate(): Promise<string[]> {
    const failures: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const c of [...this.compensations].reverse()) {
        try {
          await c.undo();
          this.tracker.undone(c.step, true);
        } catch (err) {
          failures.push(`${c.step}: ${errorMessage(err)}`);
          this.tracker.undone(c.step, false, errorMessage(err));
        }
      }
    });
    this.compensations.length = 0;
    return failures;
  }
}
