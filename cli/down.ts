import { isAlive, readPidFile, waitUntilGone } from './pids';

/**
 * Stops a stack started with `up --detach`: SIGTERM to its supervisor (which stops every daemon in order),
 * then waits until the supervisor and each daemon it started have really exited; stragglers get SIGKILL.
 */
export async function down(home: string): Promise<void> {
  const pids = readPidFile(home);
  if (!pids) {
    process.stdout.write(`no stack running from ${home}\n`);
    return;
  }
  const all = [pids.supervisor, ...pids.daemons.map((d) => d.pid)];
  if (isAlive(pids.supervisor)) process.kill(pids.supervisor, 'SIGTERM');
  else for (const d of pids.daemons) if (isAlive(d.pid)) process.kill(d.pid, 'SIGTERM');
  let left = await waitUntilGone(all, 60_000);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  left = await waitUntilGone(left, 5_000);
  if (left.length) throw new Error(`processes still alive after SIGKILL: ${left.join(', ')}`);
  process.stdout.write(`stopped (${all.length} processes)\n`);
}
