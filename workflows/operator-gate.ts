import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  defineUpdate,
  isCancellation,
  setHandler,
} from '@temporalio/workflow';
import { RESOLVE_ACTIONS, type ResolveAction } from '../common/constants';
import { setPhase } from './phase';
import { errorMessage, type StepTracker } from './steps';

/**
 * The operator gate of long workflows (DESIGN.md §2). A step that still fails after its retries does not fail
 * the workflow: the workflow turns `awaiting_operator` (search attribute and progress query show the step and
 * the error) and waits for the `resolve` update: retry the step, skip it (where allowed), roll back, or abort.
 * The update's validator rejects actions that make no sense in the current state, so the API can answer 409.
 */

export interface ResolveRequest {
  action: ResolveAction;
}

export interface ResolveResult {
  action: ResolveAction;
  step: string | null;
}

export const resolveUpdate = defineUpdate<ResolveResult, [ResolveRequest]>('resolve');

export interface GateWait {
  step: string;
  error: string;
  errorType: string | null;
  since: string;
  actions: ResolveAction[];
}

/** Thrown out of a gated step when the operator chose rollback or abort; the workflow decides what follows. */
export class OperatorDecision extends Error {
  constructor(readonly action: 'rollback' | 'abort') {
    super(`operator chose ${action}`);
  }
}

function failureType(err: unknown): string | null {
  let e: unknown = err;
  while (e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) e = e.cause;
  return e instanceof ApplicationFailure ? (e.type ?? null) : null;
}

export class OperatorGate {
  waiting: GateWait | null = null;
  /** Once true (finished, or already rolling back) no action applies any more. */
  closed = false;
  private decision: ResolveAction | null = null;
  private requested: 'rollback' | 'abort' | null = null;

  /**
   * `fatal`: failure types no operator can fix (bad input, a wrong host key): they fail through, ungated.
   * Workflows pass GATE_FATAL_TYPES (common/failure-types.ts), never a list of their own.
   */
  constructor(
    private readonly tracker: StepTracker,
    private readonly fatal: readonly string[] = [],
  ) {
    setHandler(resolveUpdate, (req) => this.accept(req), { validator: (req) => this.validate(req) });
  }

  private validate(req: ResolveRequest): void {
    if (!req || !(RESOLVE_ACTIONS as readonly string[]).includes(req.action))
      throw new Error(`action must be one of ${RESOLVE_ACTIONS.join(', ')}`);
    if (this.closed) throw new Error(`the workflow is ${this.tracker.phase}: no operator action applies`);
    if (this.waiting) {
      if (!this.waiting.actions.includes(req.action))
        throw new Error(`${req.action} is not possible at step ${this.waiting.step} (possible: ${this.waiting.actions.join(', ')})`);
    } else if (req.action === 'retry' || req.action === 'skip') {
      throw new Error(`nothing to ${req.action}: no step is waiting for an operator`);
    } else if (this.requested) {
      throw new Error(`${this.requested} was already requested`);
    }
  }

  private accept(req: ResolveRequest): ResolveResult {
    const step = this.waiting?.step ?? null;
    if (this.waiting) this.decision = req.action;
    else this.requested = req.action as 'rollback' | 'abort';
    return { action: req.action, step };
  }

  /** A rollback or abort asked for while no step waited takes effect at the next step boundary. */
  checkRequested(): void {
    if (this.requested) throw new OperatorDecision(this.requested);
  }

  /** Runs a step; on failure after its retries, waits for the operator. Resolves undefined when skipped. */
  async run<T>(name: string, fn: () => Promise<T>, opts: { skippable?: boolean } = {}): Promise<T | undefined> {
    for (;;) {
      this.checkRequested();
      try {
        return await this.tracker.run(name, fn);
      } catch (err) {
        if (isCancellation(err) || err instanceof OperatorDecision) throw err;
        const type = failureType(err);
        if (type && this.fatal.includes(type)) throw err;
        const actions: ResolveAction[] = ['retry', ...(opts.skippable ? (['skip'] as const) : []), 'rollback', 'abort'];
        const action = await this.wait({ step: name, error: errorMessage(err), errorType: type, actions });
        if (action === 'retry') continue;
        if (action === 'skip') {
          this.tracker.skip(name);
          return undefined;
        }
        throw new OperatorDecision(action as 'rollback' | 'abort');
      }
    }
  }

  /**
   * Waits for an operator without a failure (a manual cut-over): `until` turns true through another update,
   * or the operator answers one of `actions` through `resolve`.
   */
  async hold(step: string, reason: string, actions: ResolveAction[], until: () => boolean): Promise<void> {
    this.checkRequested();
    const action = await this.wait({ step, error: reason, errorType: null, actions }, until);
    if (action) throw new OperatorDecision(action as 'rollback' | 'abort');
  }

  private async wait(w: Omit<GateWait, 'since'>, until: () => boolean = () => false): Promise<ResolveAction | null> {
    this.waiting = { ...w, since: new Date(Date.now()).toISOString() };
    setPhase(this.tracker, 'awaiting_operator');
    await condition(() => this.decision !== null || until());
    const action = this.decision;
    this.decision = null;
    this.waiting = null;
    setPhase(this.tracker, 'running');
    this.tracker.audit.push({
      step: w.step,
      action: 'info',
      outcome: 'ok',
      at: new Date(Date.now()).toISOString(),
      details: { operator: action ?? 'go', error: w.error },
    });
    return action;
  }
}
