import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { figureRows, formatTable, machineFacts, npanelCli, resultsDir, type Figure } from '../bench/common';
import { repoRoot } from '../config/load';
import { stackHome } from '../stack/state-home';

/**
 * `npanel bench`: runs every compiled bench script (`dist/bench/*.js` that reads its command line) one after
 * another, each on its own port base, then prints one table and writes `bench/results/all.json` with the
 * machine facts, so two runs can be compared. A script that fails is a row marked FAILED; the others still run.
 * A script that runs against a given stack (NEEDS_STACK) gets one this command starts (and stops afterwards).
 */

/**
 * Scripts that run against a stack they are given instead of starting their own, and the flag that names its
 * home. Every other script starts what it needs on `--port-base N` / NPANEL_BENCH_PORT_BASE.
 */
const NEEDS_STACK: Record<string, string> = { 'renewal-sweep': '--stack', migrate: '--home' };

interface ScriptRun {
  name: string;
  exitCode: number | null;
  seconds: number;
  figures: Figure[];
  error?: string;
}

function benchScripts(only?: string): { name: string; file: string; text: string }[] {
  const dir = path.join(repoRoot(), 'dist', 'bench');
  if (!fs.existsSync(dir)) throw new Error(`${dir} is missing: build first (npm run build)`);
  return (
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => ({ name: f.replace(/\.js$/, ''), file: path.join(dir, f), text: fs.readFileSync(path.join(dir, f), 'utf8') }))
      // Helper modules (shared figures, the floor, CPU accounting) never read argv; scripts do.
      .filter((s) => s.text.includes('process.argv') && (!only || s.name.includes(only)))
      .sort((a, b) => a.name.localeCompare(b.name))
  );
}

function runScript(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit', env });
    child.once('exit', (code) => resolve(code));
  });
}

function readFigures(name: string, since: number): Figure[] | string {
  const file = path.join(resultsDir(), `${name}.json`);
  if (!fs.existsSync(file) || fs.statSync(file).mtimeMs < since) return `wrote no ${path.relative(repoRoot(), file)}`;
  const figures = (JSON.parse(fs.readFileSync(file, 'utf8')) as { figures?: Figure[] }).figures;
  return Array.isArray(figures) ? figures : 'results file has no figures';
}

export async function bench(opts: { portBase: number; only?: string }): Promise<number> {
  const scripts = benchScripts(opts.only);
  if (scripts.length === 0) throw new Error(`no bench script matches ${opts.only ?? '(any)'}`);
  const machine = machineFacts();
  const sharedHome = stackHome('.npanel-bench-shared');
  const sharedBase = opts.portBase + 100 * scripts.length;
  let sharedUp = false;
  const runs: ScriptRun[] = [];
  try {
    for (const [i, s] of scripts.entries()) {
      const base = opts.portBase + 100 * i;
      const args: string[] = [];
      if (s.text.includes("'--port-base'")) args.push('--port-base', String(base));
      const stackFlag = NEEDS_STACK[s.name];
      if (stackFlag) {
        if (!sharedUp) {
          fs.rmSync(sharedHome, { recursive: true, force: true });
          const up = await npanelCli(['up', '--detach', '--home', sharedHome, '--port-base', String(sharedBase)]);
          if (up.code !== 0) throw new Error(`up for the shared bench stack failed:\n${up.output}`);
          sharedUp = true;
        }
        args.push(stackFlag, sharedHome);
      }
      process.stdout.write(`\n=== bench ${s.name} ${args.join(' ')}\n`);
      const started = Date.now();
      const exitCode = await runScript(s.file, args, { ...process.env, NPANEL_BENCH_PORT_BASE: String(base) });
      const figures = readFigures(s.name, started);
      const run: ScriptRun = {
        name: s.name,
        exitCode,
        seconds: (Date.now() - started) / 1000,
        figures: typeof figures === 'string' ? [] : figures,
      };
      // Exit 1 with figures = some goal missed (the table says which); anything else without figures failed.
      if (typeof figures === 'string') run.error = `exit ${exitCode}: ${figures}`;
      runs.push(run);
    }
  } finally {
    if (sharedUp) {
      await npanelCli(['down', '--home', sharedHome]);
      fs.rmSync(sharedHome, { recursive: true, force: true });
    }
  }
  return report(runs, machine);
}

function report(runs: ScriptRun[], machine: ReturnType<typeof machineFacts>): number {
  const lastFile = path.join(resultsDir(), 'last.json');
  const last = fs.existsSync(lastFile)
    ? (JSON.parse(fs.readFileSync(lastFile, 'utf8')) as { figures: (Figure & { bench: string })[] })
    : null;
  const figures = runs.flatMap((r) => r.figures.map((f) => ({ bench: r.name, ...f })));
  const rows: string[][] = [['bench', ...figureRows([])[0]!, ...(last ? ['last'] : [])]];
  for (const r of runs) {
    if (r.error) rows.push([r.name, '(script failed)', '', r.error, '', 'FAILED', ...(last ? [''] : [])]);
    for (const f of r.figures) {
      const prev = last?.figures.find((p) => p.bench === r.name && p.name === f.name);
      rows.push([r.name, ...figureRows([f])[1]!, ...(last ? [prev ? `${prev.measured} ${prev.unit}` : '-'] : [])]);
    }
  }
  process.stdout.write(`\n${formatTable(rows)}`);
  process.stdout.write(
    `(${machine.cores} cores, ${machine.memoryGiB} GiB, load before ${machine.loadAverage.join(' ')}, commit ${machine.commit.slice(0, 10)}${machine.dirty ? ' + changes' : ''})\n`,
  );
  const out = path.join(resultsDir(), 'all.json');
  fs.mkdirSync(resultsDir(), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ machine, scripts: runs.map(({ figures: _, ...r }) => r), figures }, null, 2) + '\n');
  process.stdout.write(
    `wrote ${path.relative(process.cwd(), out)}${last ? '' : ' (copy it to bench/results/last.json to compare later runs with it)'}\n`,
  );
  return runs.every((r) => !r.error) && figures.every((f) => f.ok) ? 0 : 1;
}
