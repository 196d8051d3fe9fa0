import { execFile, type ExecFileException } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import { repoRoot } from '../../config/load';
import { createStackContext, hostingNodes } from '../../stack/context';
import { processEnv } from '../../stack/env';
import { isPortFree, stackPorts } from '../../stack/ports';
import { loadStack } from '../support/stack';
import { stackHome } from '../../stack/state-home';

/**
 * What an operator sees when things are wrong: a busy port, a bad setting, and `status` of a healthy stack.
 * Each failure must be one readable line and leave nothing running.
 */

const root = repoRoot();
const busyHome = stackHome('.npanel-busy-test');
const configHome = stackHome('.npanel-config-test');
const BUSY_BASE = 29100;
const CONFIG_BASE = 29200;

after(() => {
  fs.rmSync(busyHome, { recursive: true, force: true });
  fs.rmSync(configHome, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, cwd: root }, (err: ExecFileException | null, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push(`${pid}: ${cmd}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

test('up --detach on a busy port fails with one line naming the port and the service, and leaves nothing running', async () => {
  fs.rmSync(busyHome, { recursive: true, force: true });
  const ports = stackPorts(BUSY_BASE);
  // The ports checked before PowerDNS's must be free, or the error would (rightly) name another service.
  for (const p of [ports.api, ports.temporal, ports.temporalUi, ports.temporalHttp, ports.temporalMetrics]) {
    assert.ok(await isPortFree(p), `port ${p} is taken by something else: pick another base for this test`);
  }
  // Occupy PowerDNS's DNS port on the address the stack binds, exactly as a stray daemon would.
  const blocker = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen({ port: ports.dns, host: '127.0.0.1', exclusive: true }, resolve);
  });
  try {
    assert.equal(await isPortFree(ports.dns), false, 'the blocker does not make the port look busy');
    const res = await run(
      process.execPath,
      [path.join(root, 'dist', 'cli', 'main.js'), 'up', '--detach', '--port-base', String(BUSY_BASE), '--home', busyHome],
      process.env,
      90_000,
    );
    assert.notEqual(res.code, 0, 'up succeeded on a busy port');
    const errLines = lines(res.stderr);
    assert.equal(errLines.length, 1, `stderr is not one line:\n${res.stderr}`);
    assert.match(errLines[0]!, new RegExp(`\\b${ports.dns}\\b`));
    assert.match(errLines[0]!, /PowerDNS/);
  } finally {
    await new Promise((r) => blocker.close(r));
  }
  // The detached supervisor exits on its own; give it a moment, then nothing may mention the home.
  const deadline = Date.now() + 5000;
  while (processesMentioning(busyHome).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(processesMentioning(busyHome), []);
});

/** The environment the stack gives the API and a worker, with nothing inherited from ours (no stray NPANEL_*). */
function goodEnv(): NodeJS.ProcessEnv {
  const log = pino({ level: 'silent' });
  const ctx = createStackContext({ root, home: configHome, portBase: CONFIG_BASE, log });
  const [node] = hostingNodes(ctx, false);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NPANEL_')));
  return { ...base, ...processEnv(ctx, node!, ['control', 'node']) };
}

const entryPoints = [
  ['worker', path.join(root, 'dist', 'worker', 'main.js')],
  ['api', path.join(root, 'dist', 'api', 'server.js')],
] as const;

const badValues: [string, string | undefined][] = [
  ['NPANEL_API_PORT', 'eighty'],
  ['NPANEL_CODEC_KEY', 'short'],
  ['NPANEL_NODE_ID', undefined], // missing
];

for (const [name, file] of entryPoints) {
  for (const [variable, value] of badValues) {
    test(`${name} exits 2 with one line naming ${variable} when it is ${value === undefined ? 'missing' : `"${value}"`}`, async () => {
      const env = goodEnv();
      if (value === undefined) delete env[variable];
      else env[variable] = value;
      const res = await run(process.execPath, [file], env, 30_000);
      assert.equal(res.code, 2, `exit ${res.code}, stderr:\n${res.stderr}`);
      const errLines = lines(res.stderr);
      assert.equal(errLines.length, 1, `stderr is not one line:\n${res.stderr}`);
      assert.match(errLines[0]!, new RegExp(`\\b${variable}\\b`));
      assert.match(errLines[0]!, value === undefined ? /required/ : /invalid/);
    });
  }
}

test('with a valid environment the API gets past its config (and fails otherwise: exit 1, not 2)', async () => {
  // Nothing listens on the config base's MariaDB port: the API must fail at connecting, which proves exit 2
  // above came from the config check and not from any failure.
  const env = goodEnv();
  assert.ok(await isPortFree(Number(env.NPANEL_INVENTORY_PORT)));
  const res = await run(process.execPath, [entryPoints[1][1]], env, 30_000);
  assert.equal(res.code, 1, `exit ${res.code}, stderr:\n${res.stderr}`);
  assert.doesNotMatch(res.stderr, /^config:/m);
});

test('npanel status reports every service of the harness stack as up', async () => {
  const stack = loadStack();
  // The CLI bin/npanel hands over to, not bin/npanel itself: its ensure_build step rebuilds dist/ whenever a source
  // is newer than the build stamp, and a rebuild in the middle of the suite breaks the tests running beside it.
  const res = await run(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'status', '--home', stack.home], process.env, 30_000);
  assert.equal(res.code, 0, `exit ${res.code}\n${res.stdout}\n${res.stderr}`);
  const rows = lines(res.stdout);
  const services = [
    'api',
    'temporal',
    'temporal-web',
    'mariadb',
    'powerdns',
    'powerdns-api',
    'nginx-http',
    'nginx-https',
    'imap',
    'smtp',
    'ftp',
    'acme',
    'ssh-source',
  ];
  for (const service of services) {
    const row = rows.find((r) => r.split(/\s+/)[1] === service);
    assert.ok(row, `no row for ${service}:\n${res.stdout}`);
    assert.match(row!, /^up\s/, row);
  }
  assert.ok(
    rows.every((r) => !r.startsWith('DOWN')),
    res.stdout,
  );
});
