import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, test } from 'node:test';
import mysql from 'mysql2/promise';
import { sshConnect } from '../../activities/ssh-connect';
import { manifestCommand } from '../../activities/transfer-manifest';
import { loadStack } from '../support/stack';
import {
  adminApi,
  cuttableProxy,
  digA,
  finished,
  migrationBody,
  rand,
  shopRowCounts,
  targetDocroot,
  treeHashes,
  until,
  workflow,
} from './migration-helpers';

/** migrateSite through the API against the stack's OpenSSH source, checked with real clients. */

const stack = loadStack();
const api = adminApi(stack);
const proxies: { close(): Promise<void> }[] = [];
after(async () => {
  for (const p of proxies) await p.close().catch(() => undefined);
});

const rowCounts = (database: string) => shopRowCounts(stack, database);

async function start(body: unknown): Promise<string> {
  const res = await api('/api/v1/migrations', { method: 'POST', body });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.match(res.body.workflowId, /^migrate-/);
  return res.body.workflowId;
}

test('the sample site migrates: checksums and row counts match, DNS answers the target, nginx serves it', async () => {
  const account = `m${rand()}`;
  const domain = `${account}.test`;
  const id = await start(migrationBody(stack, { account, domain, databases: ['shop'] }));
  const w = await finished(api, id);
  assert.equal(w.status, 'completed', JSON.stringify(w.error ?? w.progress?.errors));

  const source = treeHashes(stack.file.migrationSource.docroot);
  const target = treeHashes(targetDocroot(stack, account, domain));
  assert.ok(source.size >= 300, `sample has ${source.size} files`);
  assert.deepEqual(target, source);
  assert.ok(
    [...target.keys()].some((n) => n.includes(' ') && /[^\x00-\x7f]/.test(n)),
    'names with spaces and unicode came over',
  );

  assert.deepEqual(await rowCounts(`${account}_shop`), await rowCounts('shop'));
  assert.deepEqual(
    (await digA(stack, domain)).map((r) => r.ip),
    [stack.file.node.ip],
  );

  // node:http, not fetch: fetch does not send a Host header of our choosing.
  const page = await new Promise<{ status: number; body: string }>((resolve, reject) =>
    http
      .get({ host: '127.0.0.1', port: stack.file.nginx.http, path: '/about%20us.html', headers: { Host: domain }, agent: false }, (r) => {
        let b = '';
        r.on('data', (d) => (b += d)).on('end', () => resolve({ status: r.statusCode!, body: b }));
      })
      .on('error', reject),
  );
  assert.equal(page.status, 200);
  assert.equal(page.body, fs.readFileSync(path.join(stack.file.migrationSource.docroot, 'about us.html'), 'utf8'));
  const list = await api('/api/v1/migrations');
  assert.equal(list.body.migrations.find((m: { workflowId: string }) => m.workflowId === id)?.status, 'completed');
});

test('hostile source: a symlink to /etc is refused and reported, nothing lands outside the docroot', async () => {
  const account = `h${rand()}`;
  const domain = `${account}.test`;
  const src = path.join(stack.home, 'source', 'sites', domain, 'public_html');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'index.html'), '<h1>hostile</h1>\n');
  fs.symlinkSync('/etc', path.join(src, 'etc'));
  fs.symlinkSync('../../../../..', path.join(src, 'up'));
  fs.symlinkSync('index.html', path.join(src, 'home.html'));
  const id = await start(migrationBody(stack, { account, domain, docroot: src }));
  const w = await finished(api, id);
  assert.equal(w.status, 'completed', JSON.stringify(w.error ?? w.progress?.errors));
  const refused = (w.result.refused as { name: string; reason: string }[]).map((r) => r.name).sort();
  assert.deepEqual(refused, ['etc', 'up']);
  const docroot = targetDocroot(stack, account, domain);
  assert.equal(fs.existsSync(path.join(docroot, 'etc')), false);
  assert.equal(fs.existsSync(path.join(docroot, 'up')), false);
  assert.equal(fs.readlinkSync(path.join(docroot, 'home.html')), 'index.html', 'a symlink inside the docroot is kept');
});

test('a wrong host key fails the migration at preflight, non-retryable, and leaves nothing behind', async () => {
  const account = `k${rand()}`;
  const domain = `${account}.test`;
  const id = await start(migrationBody(stack, { account, domain, fingerprint: `SHA256:${'A'.repeat(43)}` }));
  const w = await finished(api, id, 60_000);
  assert.equal(w.status, 'failed');
  assert.match(w.error.message, /host key/);
  const pre = w.progress.steps.find((s: { name: string }) => s.name === 'preflight');
  assert.equal(pre.status, 'failed');
  assert.equal(fs.existsSync(targetDocroot(stack, account, domain)), false);
  assert.equal((await api(`/api/v1/accounts/${account}`)).status, 404);
});

test('exit status of a fast remote command arrives through a proxy that coalesces packets (20 of 20)', async () => {
  // ssh2 emits 'exit' while parsing: a listener added after `await exec` missed it half the time here.
  const proxy = await cuttableProxy(stack.file.migrationSource.port);
  proxies.push(proxy);
  const s = stack.file.migrationSource;
  const session = await sshConnect({
    host: s.host,
    port: proxy.port,
    user: s.user,
    privateKey: fs.readFileSync(s.privateKey, 'utf8'),
    hostKeyFingerprint: s.hostKeyFingerprint,
  });
  try {
    const codes: (number | null)[] = [];
    for (let i = 0; i < 20; i++) codes.push((await session.exec(manifestCommand(s.docroot))).code);
    assert.deepEqual(codes, Array(20).fill(0));
  } finally {
    session.end();
  }
});

async function awaitingOperator(id: string, step: string) {
  return until(`${id} awaiting the operator at ${step}`, async () => {
    const w = await workflow(api, id);
    if (w.closedAt) throw new Error(`closed: ${JSON.stringify(w.error)}`);
    return w.status === 'awaiting_operator' && w.progress.operator?.step === step ? w : undefined;
  });
}

test('source unreachable mid-way: awaiting_operator with the error; invalid actions 409; retry completes it', async () => {
  const proxy = await cuttableProxy(stack.file.migrationSource.port);
  proxies.push(proxy);
  const account = `o${rand()}`;
  const domain = `${account}.test`;
  const id = await start(migrationBody(stack, { account, domain, port: proxy.port, cutover: 'manual' }));
  await awaitingOperator(id, 'cutover');
  assert.equal((await api(`/api/v1/migrations/${id}/resolve`, { method: 'POST', body: { action: 'retry' } })).status, 409);
  await proxy.cut();
  assert.equal((await api(`/api/v1/migrations/${id}/cutover`, { method: 'POST' })).status, 200);
  const w = await awaitingOperator(id, 'delta');
  assert.match(w.progress.operator.error, /ssh|ECONNREFUSED|connect/i);
  assert.ok(w.progress.operator.actions.includes('retry'));
  const listed = await api(`/api/v1/workflows?status=awaiting_operator&domain=${domain}`);
  assert.ok(
    listed.body.workflows.some((x: { workflowId: string }) => x.workflowId === id),
    'NpanelStatus search attribute says awaiting_operator',
  );
  assert.equal((await api(`/api/v1/migrations/${id}/cutover`, { method: 'POST' })).status, 409);
  await proxy.restore();
  const ok = await api(`/api/v1/migrations/${id}/resolve`, { method: 'POST', body: { action: 'retry' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.step, 'delta');
  const done = await finished(api, id);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.deepEqual(
    (await digA(stack, domain)).map((r) => r.ip),
    [stack.file.node.ip],
  );
  assert.equal((await api(`/api/v1/migrations/${id}/resolve`, { method: 'POST', body: { action: 'retry' } })).status, 409);
});

test('rollback from the gate: DNS exactly as before, no target leftovers', async () => {
  const proxy = await cuttableProxy(stack.file.migrationSource.port);
  proxies.push(proxy);
  const account = `r${rand()}`;
  const domain = `${account}.test`;
  // The domain's zone is already served here, pointing at the source (the usual case: we host its DNS).
  const dnsKey = stack.secrets.pdnsApiKey;
  const zone = await fetch(`${stack.file.dns.api}/api/v1/servers/localhost/zones`, {
    method: 'POST',
    headers: { 'X-API-Key': dnsKey, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `${domain}.`,
      kind: 'Native',
      nameservers: ['ns1.npanel.test.'],
      rrsets: [{ name: `${domain}.`, type: 'A', ttl: 3600, records: [{ content: '192.0.2.10', disabled: false }] }],
    }),
  });
  assert.equal(zone.status, 201);
  const before = await digA(stack, domain);
  const id = await start(migrationBody(stack, { account, domain, port: proxy.port, cutover: 'manual', databases: ['shop'] }));
  await awaitingOperator(id, 'cutover');
  await proxy.cut();
  await api(`/api/v1/migrations/${id}/cutover`, { method: 'POST' });
  await awaitingOperator(id, 'delta');
  assert.deepEqual(
    (await digA(stack, domain)).map((r) => r.ip),
    [stack.file.node.ip],
    'cut over before the delta',
  );
  const res = await api(`/api/v1/migrations/${id}/resolve`, { method: 'POST', body: { action: 'rollback' } });
  assert.equal(res.status, 200);
  const w = await finished(api, id);
  assert.equal(w.status, 'failed');
  assert.match(w.error.message, /rolled back/);
  assert.deepEqual(await digA(stack, domain), before);
  assert.equal(fs.existsSync(path.join(stack.home, 'nodes', 'a', 'www', account)), false);
  assert.equal(fs.existsSync(path.join(stack.home, 'nodes', 'a', 'nginx', 'sites', `${domain}.conf`)), false);
  assert.equal((await api(`/api/v1/accounts/${account}`)).status, 404);
  const conn = await mysql.createConnection({
    host: '127.0.0.1',
    port: stack.file.mysql.port,
    user: 'npanel_admin',
    password: stack.secrets.mysqlAdminPassword,
  });
  const [dbs] = await conn.query<mysql.RowDataPacket[]>('SHOW DATABASES LIKE ?', [`${account}_%`]);
  await conn.end();
  assert.equal(dbs.length, 0);
});
