import { ApplicationFailure, executeChild, sleep } from '@temporalio/workflow';
import { WORKFLOW_REGISTRY } from '../common/workflow-types';
import { workflowIds } from '../common/workflow-ids';
import { removeCertificate } from './remove-certificate';
import { renewCertificate } from './renew-certificate';
import { FAILURE } from '../common/failure-types';

/**
 * One certificate operation per domain at a time, for workflows: the operation runs as a child under the
 * domain's certificate ID; while another operation holds that ID (an API renewal, the sweep) the start fails
 * with WorkflowExecutionAlreadyStarted and this waits and tries again, i.e. it queues behind it. Child
 * workflows cannot join (no conflict policy for children), and joining would be wrong here anyway: a
 * provisioning must get its own issuance, a deprovisioning its own removal.
 *
 * The wait backs off (1 s doubling to 30 s: few history events) and gives up after 30 min, longer than any
 * renewal may run (its order's schedule-to-close timeout is 15 min).
 */
const FIRST_WAIT_MS = 1_000;
const MAX_WAIT_MS = 30_000;
const GIVE_UP_MS = 30 * 60_000;

async function inDomainSlot<T>(domain: string, start: (workflowId: string) => Promise<T>): Promise<T> {
  const workflowId = workflowIds.certificate(domain);
  const deadline = Date.now() + GIVE_UP_MS;
  for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, MAX_WAIT_MS)) {
    try {
      return await start(workflowId);
    } catch (err) {
      // (@temporalio/workflow does not export the class; its name is stable API.)
      if ((err as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
      if (Date.now() >= deadline) {
        throw ApplicationFailure.nonRetryable(
          `another certificate operation of ${domain} still runs after 30 min`,
          FAILURE.CertificateOperationBusy,
        );
      }
      await sleep(wait);
    }
  }
}

/** Issues (or renews) the domain's certificate, queued behind any running operation of that domain. */
export function issueCertificateInSlot(domain: string): Promise<Awaited<ReturnType<typeof renewCertificate>>> {
  return inDomainSlot(domain, (workflowId) =>
    executeChild(renewCertificate, { workflowId, taskQueue: WORKFLOW_REGISTRY.renewCertificate.taskQueue, args: [{ domain }] }),
  );
}

/** Removes the domain's certificates (vhost back to HTTP, files, row), queued the same way. */
export function removeCertificateInSlot(domain: string, node: string): Promise<Awaited<ReturnType<typeof removeCertificate>>> {
  return inDomainSlot(domain, (workflowId) =>
    executeChild(removeCertificate, { workflowId, taskQueue: WORKFLOW_REGISTRY.removeCertificate.taskQueue, args: [{ domain, node }] }),
  );
}
