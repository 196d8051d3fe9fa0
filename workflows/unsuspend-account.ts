import { setHandler } from '@temporalio/workflow';
import { setAccountSuspended } from './account-suspension';
import { progressQuery, StepTracker } from './steps';

/** Lifts a suspension: the site, FTP, mail and database logins work again as before. */
export async function unsuspendAccount(input: { username: string }): Promise<{ username: string; suspended: false }> {
  const tracker = new StepTracker(['lookup', 'vhost', 'ftp', 'mail', 'database', 'status']);
  setHandler(progressQuery, () => tracker.snapshot());
  await setAccountSuspended(tracker, input.username, false, 'unsuspendAccount');
  return { username: input.username, suspended: false };
}
