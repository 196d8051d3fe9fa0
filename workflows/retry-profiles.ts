/**
 * The named retry profiles of NPanel's activities, each written once; the proxies in activity-proxies.ts pick
 * one by name. Input errors are non-retryable `ApplicationFailure`s (common/failure-types.ts) and fail at once
 * whatever the profile; these only pace retries of transient errors.
 */
export const RETRY_PROFILES = {
  /**
   * Forward steps give up after ~3 s of retries (5 attempts, 200 ms doubling): a dead service turns into a
   * clean rollback quickly.
   */
  forward: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
  /**
   * Steps that must happen (compensations, removals, audit and status records): far longer retries (~4 min),
   * because leaving a half-made account or a missing record is worse than waiting.
   */
  persistent: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 20 },
  /**
   * The inventory (MariaDB) is the control plane's own store, not a service of the account: when it is down no
   * step can proceed and no rollback can be recorded either (every undo ends in the inventory), so rolling back
   * on an inventory outage would only trade one stuck state for another. Its activities wait out a restart or
   * a failover (~1.5 min of retries, 5 s apart at most).
   */
  inventory: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 20 },
  /**
   * Migration steps: few, spaced retries. What still fails after ~15 s of tries is an operator matter (the
   * operator gate), not something more retries would fix.
   */
  migration: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 4 },
  /**
   * An ACME order is slow (Let's Encrypt: seconds to tens of seconds) and each try costs an order against the
   * CA's limits: few retries (at most twice, 5 s and 10 s later), and only transient errors (network, CA 5xx)
   * are retried at all.
   */
  acmeOrder: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3 },
  /** One audit-retention batch: a busy table is tried again for a few minutes before the run fails. */
  auditBatch: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
} as const;
