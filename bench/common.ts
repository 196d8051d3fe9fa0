import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../config/load';

/**
 * What every bench script shares: the figure shape of `bench/results/<name>.json` (which `npanel bench`
 * aggregates), the table it prints, the machine facts that make two runs comparable, and the real CLI.
 */

export interface Figure {
  name: string;
  /** The figure is ok when measured <= goal (every goal here is an upper bound). */
  goal: number;
  measured: number;
  unit: string;
  ratio: number;
  ok: boolean;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export function figure(name: string, goal: number, measured: number, unit: string): Figure {
  return { name, goal: round(goal, 2), measured: round(measured, 2), unit, ratio: round(measured / goal, 3), ok: measured <= goal };
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function figureRows(figures: Figure[]): string[][] {
  return [
    ['figure', 'goal', 'measured', 'ratio', ''],
    ...figures.map((f) => [f.name, `<= ${f.goal} ${f.unit}`, `${f.measured} ${f.unit}`, f.ratio.toFixed(2), f.ok ? 'ok' : 'OVER']),
  ];
}

/** Cores, memory and the load before the run: these VMs are shared and noisy (±40%), so results carry them. */
export function machineFacts() {
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !==
      '';
  } catch {
    // not a git checkout (a release tarball): the commit stays unknown
  }
  return {
    date: new Date().toISOString(),
    commit,
    dirty,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    loadAverage: os.loadavg().map((l) => round(l, 2)),
    node: process.version,
  };
}

export function resultsDir(): string {
  return path.join(repoRoot(), 'bench', 'results');
}

/** Writes `bench/results/<name>.json` in the shared shape; returns its path. */
export function writeResults(name: string, figures: Figure[], details: Record<string, unknown> = {}): string {
  const out = path.join(resultsDir(), `${name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ figures, machine: machineFacts(), details }, null, 2) + '\n');
  return out;
}

/** The real CLI (`node dist/cli/main.js ...`), as an operator runs it; output collected, never inherited. */
export function npanelCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'cli', 'main.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Nearest-rank percentile (p in 0..100) of the values; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The middle value; for an even count, the mean of the two middle ones (nearest rank would pick the lower). */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `--port-base N`, else NPANEL_BENCH_PORT_BASE (what `npanel bench` sets), else the script's default. */
export function benchPortBase(flag: string | undefined, fallback: number): number {
  const raw = flag ?? process.env.NPANEL_BENCH_PORT_BASE;
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1024 || n > 65000) throw new Error(`port base must be an integer from 1024 to 65000, got ${raw}`);
  return n;
}
