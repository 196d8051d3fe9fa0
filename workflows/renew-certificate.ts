import { ApplicationFailure, CancellationScope, isCancellation, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { NodeActivities } from '../activities';
import type { CertificateFault } from '../activities/acme';
import { saKeys } from '../common/search-attribute-keys';
import {
  acmeOrderActivities,
  controlActivities,
  controlLocalActivities,
  controlLocalPersistentActivities,
  controlPersistentActivities,
  nodeActivities,
  nodePersistentActivities,
} from './activity-proxies';
import { setPhase } from './phase';
import { errorMessage, progressQuery, StepTracker } from './steps';
import { FAILURE } from '../common/failure-types';

export interface RenewCertificateInput {
  domain: string;
  /** Drills and tests only (not reachable from the API): break the install to rehearse the rollback. */
  fault?: CertificateFault;
}

export interface RenewCertificateResult {
  domain: string;
  serial: string;
  issuer: string;
  notAfter: string;
  previousSerial: string | null;
}

const STEPS = ['lookup', 'order', 'install', 'verify', 'record'];

/** The ApplicationFailure under an activity/child failure: its type and details travel up unchanged. */
export function applicationCause(err: unknown): { type: string | null; details: unknown[] } {
  let e = err as { cause?: unknown; type?: string; details?: unknown[]; name?: string } | undefined;
  while (e) {
    if (e.name === 'ApplicationFailure' || e instanceof ApplicationFailure) return { type: e.type ?? null, details: e.details ?? [] };
    e = e.cause as typeof e;
  }
  return { type: null, details: [] };
}

function serialOf(certPath: string | undefined): string | null {
  return /\/([0-9A-F]{1,128})\/cert\.pem$/.exec(certPath ?? '')?.[1] ?? null;
}

/**
 * Orders a certificate for a domain (and www), installs it beside the served one, switches nginx to it
 * (`nginx -t` + reload), then proves with a TLS handshake (SNI) that nginx serves the new serial. Any failure
 * puts the previous pair back (reload), removes the new one and fails with the reason — the CA's problem
 * detail when the CA refused. First issuance is the same path with "no certificate" as the previous pair.
 */
export async function renewCertificate(input: RenewCertificateInput): Promise<RenewCertificateResult> {
  const tracker = new StepTracker(STEPS);
  setHandler(progressQuery, () => tracker.snapshot());
  // The inventory steps (lookup, record, failure record, audit) as local activities: no task queue round trip
  // each, one marker event instead of three events and a workflow task. A sweep starting hundreds of renewals
  // is bound by the Temporal server's work per renewal (bench/renewal-sweep.ts).
  const control = controlLocalActivities();
  const bookkeeping = controlLocalPersistentActivities();
  const { domain } = input;
  const target = await tracker.run('lookup', () => control.certificateTarget({ domain }));
  upsertSearchAttributes([
    { key: saKeys.domain, value: domain },
    { key: saKeys.account, value: target.account },
    { key: saKeys.node, value: target.node },
  ]);
  const node = nodeActivities(target.node);
  const nodePersistent = nodePersistentActivities(target.node);
  const audit = () =>
    bookkeeping.appendAudit({ workflowType: 'renewCertificate', account: target.account, domain, entries: tracker.audit });

  let cert: Awaited<ReturnType<NodeActivities['orderCertificate']>> | null = null;
  try {
    cert = await tracker.run('order', () => acmeOrderActivities(target.node).orderCertificate({ domain }));
    const ordered = cert;
    await tracker.run('install', () =>
      node.installCertificate({ domain, serial: ordered.serial, ...(input.fault ? { fault: input.fault } : {}) }),
    );
    await tracker.run('verify', async () => {
      const served = await node.probeServedCertificate({ domain });
      if (served.serial !== ordered.serial) {
        throw ApplicationFailure.nonRetryable(
          `nginx serves serial ${served.serial} for ${domain}, not the new ${ordered.serial}`,
          FAILURE.CertificateNotServed,
        );
      }
    });
    await tracker.run('record', () =>
      control.recordCertificateIssued({
        domain,
        accountId: target.accountId,
        serial: ordered.serial,
        issuer: ordered.issuer,
        notBefore: ordered.notBefore,
        notAfter: ordered.notAfter,
        certPath: ordered.certPath,
        keyPath: ordered.keyPath,
      }),
    );
    const previousSerial = serialOf(ordered.served?.certPath);
    // Keep the new pair and the one it replaced (what a later manual rollback needs); older ones go.
    await nodePersistent.pruneCertificates({ domain, keep: [ordered.serial, ...(previousSerial ? [previousSerial] : [])] }).catch(() => 0);
    setPhase(tracker, 'completed');
    await audit();
    return { domain, serial: ordered.serial, issuer: ordered.issuer, notAfter: ordered.notAfter, previousSerial };
  } catch (err) {
    const cancelled = isCancellation(err);
    const reason = errorMessage(err);
    const cause = applicationCause(err);
    const obtained = cert;
    setPhase(tracker, obtained ? 'rolling_back' : 'failed');
    const undoFailures: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      if (obtained) {
        // Put back what was served before the order (idempotent: a no-op when the reloader already did).
        for (const [step, undo] of [
          ['install', () => nodePersistent.restoreCertificate({ domain, previous: obtained.served })],
          ['order', () => nodePersistent.discardCertificate({ domain, serial: obtained.serial })],
        ] as const) {
          try {
            await undo();
            tracker.undone(step, true);
          } catch (e) {
            undoFailures.push(`${step}: ${errorMessage(e)}`);
            tracker.undone(step, false, errorMessage(e));
          }
        }
        setPhase(tracker, 'rolled_back');
      }
      await bookkeeping
        .recordCertificateFailure({ domain, accountId: target.accountId, outcome: obtained ? 'rolled_back' : 'failed', error: reason })
        .catch(() => undefined);
      await audit().catch(() => undefined);
    });
    if (cancelled) throw err;
    const leftovers = undoFailures.length ? `; rollback failed for ${undoFailures.join('; ')}` : '';
    throw ApplicationFailure.create({
      message: `certificate for ${domain} ${obtained ? 'rolled back' : 'not issued'}: ${reason}${leftovers}`,
      type: cause.type ?? FAILURE.CertificateRenewalFailed,
      nonRetryable: true,
      details: cause.details,
    });
  }
}
