import fs from 'node:fs';
import path from 'node:path';

/** A process is gone when kill(0) fails or it is a zombie waiting to be reaped (kill -0 succeeds on a zombie, so it alone would call a dead daemon alive). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    alive = alive.filter(isAlive);
  }
  return alive;
}

export interface PidFile {
  supervisor: number;
  daemons: { name: string; pid: number }[];
}

export const pidFilePath = (home: string) => path.join(home, 'pids.json');

export function readPidFile(home: string): PidFile | null {
  try {
    return JSON.parse(fs.readFileSync(pidFilePath(home), 'utf8')) as PidFile;
  } catch {
    return null;
  }
}
