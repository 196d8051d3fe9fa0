import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codecFromConfig } from '../../lib/codec';
import { temporalBinary } from '../../stack/services/temporal';
import { decodeHistoryJson } from '../replay/history-file';
import { apiClient, uniqueName } from '../support/accounts';
import { loadStack } from '../support/stack';
import { migrationBody } from './migration-helpers';

/**
 * Secrets never appear in plain text outside the places meant to hold them. Every workflow that takes a
 * secret runs with known values (mailbox, FTP and database passwords; the migration's SSH private key), then
 * the test searches what an operator, a log shipper or an attacker with read access would see: every log of
 * the stack, each workflow's history as `temporal workflow show -o json` prints it, a dump of the inventory
 * database, and the Prometheus endpoints. The stack's own secrets (admin token, inventory and MariaDB admin
 * passwords, PowerDNS key, codec key) are searched for too. A positive control proves the search works: the
 * same histories, decoded with the codec key, do contain the passwords.
 */
const execFileP = promisify(execFile);
const stack = loadStack();
const { api, waitClosed } = apiClient(stack);

const secret = (what: string) => `S3cr3t-${what}-${crypto.randomBytes(9).toString('base64url')}`;

test('known secrets appear nowhere in logs, Temporal histories, the inventory dump or /metrics', { timeout: 300_000 }, async (t) => {
  const username = uniqueName('sec');
  const passwords = { mailbox: secret('mailbox'), ftp: secret('ftp'), database: secret('database') };
  const body = {
    username,
    domain: `${username}.example`,
    mailboxes: [{ local: 'info', password: passwords.mailbox }],
    ftp: { password: passwords.ftp },
    database: { name: `${username}_db`, password: passwords.database },
  };
  const ids: string[] = [];
  const run = async (method: string, pathname: string, b?: unknown) => {
    const res = await api(method, pathname, b);
    assert.equal(res.status, 202, `${method} ${pathname}: ${JSON.stringify(res.body)}`);
    ids.push(res.body.workflowId);
    const wf = await waitClosed(res.body.workflowId, 180_000);
    assert.equal(wf.status, 'completed', `${method} ${pathname}: ${JSON.stringify(wf.error)}`);
  };
  await run('POST', '/api/v1/accounts', body);
  await run('POST', `/api/v1/accounts/${username}/suspend`);
  await run('POST', `/api/v1/accounts/${username}/unsuspend`);
  await run('DELETE', `/api/v1/accounts/${username}`);

  // The migration's secret is its SSH private key (the stack's source is key-only): its body lines are
  // searched, since a log would show the key JSON-escaped on one line.
  const mig = migrationBody(stack, { account: uniqueName('secm'), domain: `${uniqueName('secm')}.example` });
  await run('POST', '/api/v1/migrations', mig);
  const keyLines = mig.source.privateKey.split('\n').filter((l) => l && !l.startsWith('-----'));

  const token = fs.readFileSync(path.join(stack.home, 'admin-token'), 'utf8').trim();
  const needles: Record<string, string> = {
    ...Object.fromEntries(Object.entries(passwords).map(([k, v]) => [`${k} password`, v])),
    ...Object.fromEntries(keyLines.map((l, i) => [`migration key line ${i + 1}`, l])),
    'admin token': token,
    'inventory password': stack.secrets.inventoryPassword,
    'MariaDB admin password': stack.secrets.mysqlAdminPassword,
    'PowerDNS API key': stack.secrets.pdnsApiKey,
    'codec key': stack.secrets.codecKey,
  };
  const found: string[] = [];
  const search = (where: string, text: string) => {
    for (const [what, value] of Object.entries(needles)) if (text.includes(value)) found.push(`${what} in ${where}`);
  };

  // 1. Every log of the stack (API, workers, daemons).
  const logs = fs.readdirSync(stack.file.logs).filter((f) => f.endsWith('.log'));
  assert.ok(logs.includes('api.log') && logs.includes('worker.log'), logs.join(' '));
  for (const f of logs) search(`logs/${f}`, fs.readFileSync(path.join(stack.file.logs, f), 'utf8'));

  // 2. Each history as the Temporal CLI shows it (with children: the migration's provisionAccount).
  const children = await execFileP(
    temporalBinary(),
    [
      'workflow',
      'list',
      '--address',
      stack.file.temporal.address,
      '-o',
      'json',
      '--query',
      `NpanelAccount = '${mig.account}' OR NpanelAccount = '${username}'`,
    ],
    { maxBuffer: 16 << 20 },
  );
  const listed = (JSON.parse(children.stdout || '[]') as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId);
  const all = [...new Set([...ids, ...listed])];
  assert.ok(all.length >= ids.length, JSON.stringify(all));
  const codec = codecFromConfig({ key: stack.secrets.codecKey, keyId: stack.secrets.codecKeyId });
  let decodedHasPasswords = 0;
  for (const id of all) {
    const { stdout } = await execFileP(
      temporalBinary(),
      ['workflow', 'show', '--address', stack.file.temporal.address, '-w', id, '-o', 'json'],
      { maxBuffer: 64 << 20 },
    );
    search(`history of ${id}`, stdout);
    // Positive control: decoded with the key, the same history carries the secrets in its payloads.
    const decoded = JSON.stringify(await decodeHistoryJson(JSON.parse(stdout), codec));
    const payloads = [...decoded.matchAll(/"data":"([A-Za-z0-9+/=]*)"/g)]
      .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
      .join('\n');
    if (payloads.includes(passwords.ftp) && payloads.includes(passwords.database)) decodedHasPasswords++;
  }
  assert.ok(decodedHasPasswords >= 1, 'the decoded provisioning history carries the passwords (the search would see them)');

  // 3. The inventory database, all of it.
  const dump = await execFileP(
    'mariadb-dump',
    ['-h', stack.file.mysql.host, '-P', String(stack.file.mysql.port), '-u', 'npanel', '--skip-lock-tables', '--no-tablespaces', 'npanel'],
    {
      env: { ...process.env, MYSQL_PWD: stack.secrets.inventoryPassword },
      maxBuffer: 256 << 20,
    },
  );
  assert.match(dump.stdout, /CREATE TABLE `accounts`/);
  search('the inventory dump', dump.stdout);

  // 4. Prometheus endpoints of the API and of each worker.
  assert.ok(stack.file.metrics, 'stack.json lists the metrics endpoints');
  const metrics = [stack.file.metrics.api, ...Object.values(stack.file.metrics.workers)];
  for (const url of metrics) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, url);
    search(url, await res.text());
  }
  t.diagnostic(
    `searched ${logs.length} logs, ${all.length} histories, the inventory dump and ${metrics.length} metrics endpoints for ${Object.keys(needles).length} secrets`,
  );
  assert.deepEqual(found, []);
});
