import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../config/load';

const execFileP = promisify(execFile);

/**
 * promtool from the `prometheus` Debian package, unpacked by `bin/npanel` into `.tools/prometheus` (it needs
 * only libc). NPANEL_PROMTOOL overrides. Missing is an error, never a skip.
 */
export function promtoolPath(): string {
  const candidates = [process.env.NPANEL_PROMTOOL, path.join(repoRoot(), '.tools', 'prometheus', 'usr', 'bin', 'promtool')].filter(
    Boolean,
  ) as string[];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`promtool not found (looked at ${candidates.join(', ')}): run bin/npanel once to install it`);
  return found;
}

export async function promtool(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<{ code: number; out: string }> {
  const bin = promtoolPath();
  if (opts.input !== undefined) {
    return new Promise((resolve) => {
      const child = execFile(bin, args, { cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      });
      child.stdin!.end(opts.input);
    });
  }
  try {
    const { stdout, stderr } = await execFileP(bin, args, { cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(e.code ?? 1), out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
