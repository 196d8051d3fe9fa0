import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { repoRoot } from '../config/load';
import { createStackContext } from '../stack/context';
import { startStack } from '../stack/stack';
import { ensureGoTools } from '../stack/services/go-tools';

function testFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.js'))
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

function runNodeTest(files: string[], env: NodeJS.ProcessEnv, concurrency: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
      stdio: 'inherit',
      env,
    });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/**
 * Every test: unit tests, then a private stack (own folder, own ports, node b included) for the integration
 * tests, so the suite runs even while a developer's `up` is running. The stack is always stopped afterwards.
 */
export async function test(opts: { home: string; portBase: number; only?: string }): Promise<number> {
  const root = repoRoot();
  const dist = path.join(root, 'dist', 'test');
  // --only a,b: the files whose path contains any of the comma-separated substrings.
  const wanted = opts.only ? opts.only.split(',').filter(Boolean) : [];
  const filter = (files: string[]) => (wanted.length ? files.filter((f) => wanted.some((w) => f.includes(w))) : files);
  const unit = filter(testFiles(path.join(dist, 'unit')));
  const all = filter(testFiles(path.join(dist, 'integration')));
  // `*.serial.test.js` break shared daemons on purpose (stop a service, revoke a privilege): they run alone,
  // after the rest, one file at a time.
  const integration = all.filter((f) => !f.endsWith('.serial.test.js'));
  const serial = all.filter((f) => f.endsWith('.serial.test.js'));
  // Browser tests (real Chromium) run last, one file at a time: they are the heaviest on a small machine.
  const e2e = filter(testFiles(path.join(dist, 'e2e')));

  // The cluster test (`up --temporal cluster`) needs Temporal's Go-built binaries: on a fresh machine they are
  // built here, once, before anything runs beside the build (minutes of both cores), not inside the test.
  if (integration.some((f) => path.basename(f).startsWith('temporal-cluster')))
    await ensureGoTools((line) => process.stdout.write(`npanel: ${line}\n`));
  fs.rmSync(opts.home, { recursive: true, force: true }); // each run starts from nothing: no state leaks between runs
  const log = pino({ level: 'warn', base: { service: 'npanel-test' } }, pino.destination(2));
  const ctx = createStackContext({ root, home: opts.home, portBase: opts.portBase, log });
  const started = performance.now();
  const stack = await startStack(ctx, { withNodeB: true, withApp: true });
  process.stdout.write(`test stack ready in ${((performance.now() - started) / 1000).toFixed(1)} s (${opts.home})\n`);
  try {
    const env = { ...process.env, NPANEL_STACK_DIR: opts.home, NPANEL_REPO_ROOT: root };
    // An empty list must not reach `node --test`: with no files it searches the whole working tree instead.
    const code = unit.length + integration.length ? await runNodeTest([...unit, ...integration], env, 2) : 0;
    const serialCode = serial.length ? await runNodeTest(serial, env, 1) : 0;
    const e2eCode = e2e.length ? await runNodeTest(e2e, env, 1) : 0;
    return code || serialCode || e2eCode;
  } finally {
    await stack.stop();
  }
}
