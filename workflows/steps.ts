import { defineQuery, log } from '@temporalio/workflow';
import type { AuditEntry } from '../activities/inventory';
import { PROGRESS_QUERIES } from '../common/workflow-types';

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'undone' | 'undo_failed' | 'skipped';

export interface StepState {
  name: string;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

export interface Progress {
  phase: string;
  current: string | null;
  steps: StepState[];
  errors: string[];
}

/** Every NPanel workflow answers this query: the API's describe and the UI's live timeline read it. */
export const progressQuery = defineQuery<Progress>(PROGRESS_QUERIES.steps);

export function errorMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return e?.cause?.message ?? e?.message ?? String(err);
}

/**
 * Tracks the steps of a workflow for the progress query and collects audit entries (flushed in one activity
 * at the end). Workflow time (`Date.now()` inside a workflow) is deterministic, so replays agree.
 */
export class StepTracker {
  readonly steps: StepState[];
  readonly audit: AuditEntry[] = [];
  readonly errors: string[] = [];
  phase = 'running';

  constructor(names: string[]) {
    this.steps = names.map((name) => ({ name, status: 'pending' }));
  }

  private state(name: string): StepState {
    let s = this.steps.find((x) => x.name === name);
    if (!s) {
      s = { name, status: 'pending' };
      this.steps.push(s);
    }
    return s;
  }

  snapshot(): Progress {
    const current =
      this.steps
        .filter((s) => s.status === 'running')
        .map((s) => s.name)
        .join(',') || null;
    return { phase: this.phase, current, steps: this.steps.map((s) => ({ ...s })), errors: [...this.errors] };
  }

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const s = this.state(name);
    s.status = 'running';
    s.startedAt = new Date(Date.now()).toISOString();
    s.error = undefined;
    try {
      const result = await fn();
      s.status = 'done';
      s.finishedAt = new Date(Date.now()).toISOString();
      this.audit.push({ step: name, action: 'do', outcome: 'ok', at: s.finishedAt });
      return result;
    } catch (err) {
      s.status = 'failed';
      s.finishedAt = new Date(Date.now()).toISOString();
      s.error = errorMessage(err);
      this.errors.push(`${name}: ${s.error}`);
      this.audit.push({ step: name, action: 'do', outcome: 'failed', at: s.finishedAt, details: { error: s.error } });
      log.warn('step failed', { step: name, error: s.error });
      throw err;
    }
  }

  /** `name` was done by the activity of step `within` (e.g. activate inside record): done when that one was. */
  doneWithin(name: string, within: string): void {
    const s = this.state(name);
    const by = this.state(within);
    s.status = 'done';
    s.startedAt = by.startedAt;
    s.finishedAt = by.finishedAt;
    this.audit.push({
      step: name,
      action: 'do',
      outcome: 'ok',
      at: s.finishedAt ?? new Date(Date.now()).toISOString(),
      details: { within },
    });
  }

  skip(name: string): void {
    const s = this.state(name);
    s.status = 'skipped';
    this.audit.push({ step: name, action: 'do', outcome: 'skipped', at: new Date(Date.now()).toISOString() });
  }

  undone(name: string, ok: boolean, error?: string): void {
    const s = this.state(name);
    s.status = ok ? 'undone' : 'undo_failed';
    if (error) this.errors.push(`undo ${name}: ${error}`);
    this.audit.push({
      step: name,
      action: 'undo',
      outcome: ok ? 'ok' : 'failed',
      at: new Date(Date.now()).toISOString(),
      ...(error ? { details: { error } } : {}),
    });
  }
}
