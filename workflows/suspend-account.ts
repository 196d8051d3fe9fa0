import { setHandler } from '@temporalio/workflow';
import { setAccountSuspended } from './account-suspension';
import { progressQuery, StepTracker } from './steps';

/** Suspends an account: the site serves the suspended page, FTP, mail and database logins are refused. */
export async function suspendAccount(input: { username: string }): Promise<{ username: string; suspended: true }> {
  const tracker = new StepTracker(['lookup', 'vhost', 'ftp', 'mail', 'database', 'status']);
  setHandler(progressQuery, () => tracker.snapshot());
  await setAccountSuspended(tracker, input.username, true, 'suspendAccount');
  return { username: input.username, suspended: true };
}
