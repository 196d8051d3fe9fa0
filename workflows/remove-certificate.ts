import { setHandler } from '@temporalio/workflow';
import { controlPersistentActivities, nodePersistentActivities } from './activity-proxies';
import { setPhase } from './phase';
import { progressQuery, StepTracker } from './steps';

export interface RemoveCertificateInput {
  domain: string;
  node: string;
}

/**
 * Removes every certificate of a domain: the vhost back to HTTP only, the files, the inventory row. Its own
 * workflow so that it runs under the domain's certificate ID (workflowIds.certificate) like every other
 * certificate operation: it never interleaves with a renewal. Idempotent steps, undo retry profile.
 */
export async function removeCertificate(input: RemoveCertificateInput): Promise<{ domain: string; removed: number }> {
  const tracker = new StepTracker(['files', 'inventory']);
  setHandler(progressQuery, () => tracker.snapshot());
  const { domain } = input;
  const removed = await tracker.run('files', () => nodePersistentActivities(input.node).removeCertificates({ domain }));
  await tracker.run('inventory', () => controlPersistentActivities().forgetCertificate({ domain }));
  setPhase(tracker, 'completed');
  return { domain, removed };
}
