import { Context, asyncLocalStorage, type Info } from '@temporalio/activity';

/**
 * Runs a real activity function outside a worker, inside an activity context of our own (what the worker
 * gives it: attempt number, heartbeat, cancellation signal), so a test calls the very function the migration
 * schedules. Heartbeats are collected for the test to inspect.
 */
export async function runAsActivity<T>(
  fn: () => Promise<T>,
  opts: { attempt?: number; heartbeatDetails?: unknown } = {},
): Promise<{ value: T; heartbeats: unknown[] }> {
  const heartbeats: unknown[] = [];
  const abort = new AbortController();
  const info = {
    attempt: opts.attempt ?? 1,
    heartbeatDetails: opts.heartbeatDetails,
    activityType: 'test',
    taskQueue: 'test',
  } as unknown as Info;
  const log = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  const meter = {
    createCounter: () => ({
      add() {},
      withTags() {
        return this;
      },
    }),
    createHistogram: () => ({
      record() {},
      withTags() {
        return this;
      },
    }),
    createGauge: () => ({
      set() {},
      withTags() {
        return this;
      },
    }),
    withTags() {
      return this;
    },
  };
  const Ctor = Context as unknown as new (...args: unknown[]) => Context;
  const ctx = new Ctor(info, new Promise<never>(() => undefined), abort.signal, (d: unknown) => heartbeats.push(d), undefined, log, meter);
  const value = await asyncLocalStorage.run(ctx, fn);
  return { value, heartbeats };
}
