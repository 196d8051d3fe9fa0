import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Connection, type Client } from '@temporalio/client';
import mysql from 'mysql2/promise';
import { repoRoot } from '../../config/load';
import type { StackSecrets } from '../../stack/context';
import { isPortFree, stackPorts } from '../../stack/ports';
import type { StackFile } from '../../stack/stack-file';
import { apiClient } from '../support/accounts';
import { stackClient, type LoadedStack } from '../support/stack';
import { stackHome } from '../../stack/state-home';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

/**
 * The restart proof, end to end through the real CLI: a stack of its own (own home, own ports), a durable timer
 * and data written before `down`, every process and port released by `down`, and after `up` the timer still
 * completes and the data is still there.
 */

const execFileP = promisify(execFile);
const root = repoRoot();
const home = stackHome('.npanel-restart-test');
const PORT_BASE = 28100;
const TIMER_MS = 15_000;
const ports = stackPorts(PORT_BASE);
const tag = crypto.randomBytes(4).toString('hex');

async function npanel(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), ...args], {
      timeout: 120_000,
      env: process.env,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`npanel ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

const readJson = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(home, name), 'utf8')) as T;

function cmdline(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function liveProcesses(): { pid: number; ppid: number; cmd: string }[] {
  const out = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // a reaped-soon zombie holds no port and no memory
      out.push({ pid: Number(pid), ppid: Number(fields[1]), cmd: cmdline(pid) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The supervisor and everything below it (daemons, their workers), as the process table shows it now. */
function processTree(rootPid: number): number[] {
  const procs = liveProcesses();
  const tree = new Set([rootPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (tree.has(p.ppid) && !tree.has(p.pid)) (tree.add(p.pid), (grew = true));
  }
  return [...tree].filter((pid) => procs.some((p) => p.pid === pid));
}

async function stopAndRemove(): Promise<void> {
  if (fs.existsSync(path.join(home, 'pids.json'))) await npanel('down', '--home', home).catch(() => undefined);
  fs.rmSync(home, { recursive: true, force: true });
}

after(stopAndRemove);

async function withTemporal<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const file = readJson<StackFile>('stack.json');
  const secrets = readJson<StackSecrets>('secrets.json');
  const connection = await Connection.connect({ address: file.temporal.address });
  try {
    const client = stackClient(connection, { file, secrets });
    return await fn(client);
  } finally {
    await connection.close();
  }
}

async function withMysql<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const file = readJson<StackFile>('stack.json');
  const secrets = readJson<StackSecrets>('secrets.json');
  const c = await mysql.createConnection({
    host: file.mysql.host,
    port: file.mysql.port,
    user: 'npanel_admin',
    password: secrets.mysqlAdminPassword,
  });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function dig(name: string, type: string): Promise<string[]> {
  const file = readJson<StackFile>('stack.json');
  const { stdout } = await execFileP('dig', [
    `@${file.dns.host}`,
    '-p',
    String(file.dns.port),
    '+short',
    '+time=2',
    '+tries=1',
    name,
    type,
  ]);
  return stdout.trim().split('\n').filter(Boolean);
}

function loaded(): LoadedStack {
  return { home, file: readJson<StackFile>('stack.json'), secrets: readJson<StackSecrets>('secrets.json') };
}

/** An account with a certificate, through the API: the workflow's verify step proves nginx serves it by SNI. */
async function provisionWithTls(username: string): Promise<any> {
  const { api, waitClosed } = apiClient(loaded());
  const res = await api('POST', '/api/v1/accounts', { username, domain: `${username}.test`, tls: true });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return waitClosed(res.body.workflowId, 120_000);
}

test('a workflow and stored data survive down + up', { timeout: 300_000 }, async (t) => {
  await stopAndRemove(); // a previous run that died before its `after` must not count as "already running"
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

  await npanel('up', '--detach', '--home', home, '--port-base', String(PORT_BASE));
  const file = readJson<StackFile>('stack.json');
  const secrets = readJson<StackSecrets>('secrets.json');
  assert.equal(file.temporal.address, `127.0.0.1:${ports.temporal}`);

  // A certificate before the restart registers this node's ACME account with the CA.
  const before1 = await provisionWithTls(`rsa${tag}`);
  assert.equal(before1.status, 'completed', JSON.stringify(before1.error));

  // A durable timer, started before the other data so it has the longest head start.
  const workflowId = `timer-restart-${tag}`;
  const label = `restart-${tag}`;
  await withTemporal((c) =>
    c.workflow.start('waitForTimer', { taskQueue: CONTROL_TASK_QUEUE, workflowId, args: [{ ms: TIMER_MS, label }] }),
  );

  // Data in MariaDB and in PowerDNS.
  const db = `restart_probe_${tag}`;
  await withMysql(async (c) => {
    await c.query(`CREATE DATABASE ${db}`);
    await c.query(`CREATE TABLE ${db}.marker (id INT PRIMARY KEY, v VARCHAR(64) NOT NULL) ENGINE=InnoDB`);
    await c.query(`INSERT INTO ${db}.marker VALUES (1, ?)`, [label]);
  });
  const zone = `restart-${tag}.test.`;
  const res = await fetch(`${file.dns.api}/api/v1/servers/localhost/zones`, {
    method: 'POST',
    headers: { 'X-API-Key': secrets.pdnsApiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: zone,
      kind: 'Native',
      nameservers: ['ns1.npanel.test.'],
      rrsets: [{ name: `www.${zone}`, type: 'A', ttl: 60, records: [{ content: '192.0.2.77', disabled: false }] }],
    }),
  });
  assert.equal(res.status, 201, await res.text());
  assert.deepEqual(await dig(`www.${zone}`, 'A'), ['192.0.2.77']);

  // The timer has not fired yet: what completes later really ran across the restart.
  const before = await withTemporal((c) => c.workflow.getHandle(workflowId).describe());
  assert.equal(before.status.name, 'RUNNING', `timer already ${before.status.name} at ${since()}`);

  const pids = readJson<{ supervisor: number; daemons: { name: string; pid: number }[] }>('pids.json');
  const tree = processTree(pids.supervisor);
  for (const d of pids.daemons) assert.ok(tree.includes(d.pid), `daemon ${d.name} (${d.pid}) is not below the supervisor`);

  await npanel('down', '--home', home);
  const stoppedAt = since();
  const left = liveProcesses().filter((p) => tree.includes(p.pid) || p.cmd.includes(home));
  assert.deepEqual(left, [], 'processes left after down');
  const portList = Object.values(ports).filter((p): p is number => typeof p === 'number');
  const busy = [];
  for (const port of portList) if (!(await isPortFree(port))) busy.push(port);
  assert.deepEqual(busy, [], 'ports still taken after down');

  await npanel('up', '--detach', '--home', home, '--port-base', String(PORT_BASE));
  const restartedAt = since();

  const result = (await withTemporal((c) => c.workflow.getHandle(workflowId).result())) as { label: string; firedAfterMs: number };
  assert.equal(result.label, label);
  assert.ok(result.firedAfterMs >= TIMER_MS, `fired after ${result.firedAfterMs} ms`);

  const rows = await withMysql(async (c) => (await c.query<mysql.RowDataPacket[]>(`SELECT id, v FROM ${db}.marker`))[0]);
  assert.deepEqual(
    rows.map((r) => ({ ...r })),
    [{ id: 1, v: label }],
  );
  assert.deepEqual(await dig(`www.${zone}`, 'A'), ['192.0.2.77']);
  assert.match((await dig(zone, 'SOA'))[0] ?? '', /^ns1\.npanel\.test\. /);

  // The test CA forgot every account when it stopped (as a real CA forgets a deactivated one): the next
  // certificate registers the node again instead of failing with "Account … not found".
  const after1 = await provisionWithTls(`rsb${tag}`);
  assert.equal(after1.status, 'completed', JSON.stringify(after1.error));

  // The restarted stack has a new supervisor: nothing of the old one was reused.
  const pidsAfter = readJson<{ supervisor: number }>('pids.json');
  assert.notEqual(pidsAfter.supervisor, pids.supervisor);
  t.diagnostic(`stopped at ${stoppedAt}, up again at ${restartedAt}, timer done at ${since()}`);
});
