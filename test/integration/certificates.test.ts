import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { workflowIds } from '../../common/workflow-ids';
import { temporalBinary } from '../../stack/services/temporal';
import { apiClient, inventoryPool, nodePaths, uniqueName } from '../support/accounts';
import { loadStack, stackClient } from '../support/stack';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

/**
 * Certificates end to end against the harness stack: Pebble issues over HTTP-01 served by the node's nginx,
 * checked the way an operator would (openssl s_client with SNI, the API, `temporal schedule`).
 */

const stack = loadStack();
const { api, waitClosed, listAll } = apiClient(stack);
const node = nodePaths(stack, 'a');
const httpsPort = stack.file.nginx.https;
const SCHEDULE_ID = 'npanel-certificate-renewal-sweep';
const pool = inventoryPool(stack);
let connection: Connection;
let client: Client;

before(async () => {
  connection = await Connection.connect({ address: stack.file.temporal.address });
  client = stackClient(connection, stack);
});

after(async () => {
  await connection?.close();
  await pool.end();
});

/** What `openssl s_client -servername` shows: serial, issuer, and whether the chain verifies to Pebble's root. */
function served(servername: string): { serial: string; issuer: string; verified: boolean } {
  const out = execFileSync(
    'openssl',
    [
      's_client',
      '-connect',
      `127.0.0.1:${httpsPort}`,
      '-servername',
      servername,
      '-CAfile',
      stack.file.acme.issuerRoot!,
      '-verify_hostname',
      servername,
    ],
    { input: '', encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'], timeout: 10_000 },
  );
  const x509 = execFileSync('openssl', ['x509', '-noout', '-serial', '-issuer'], { input: out, encoding: 'utf8' });
  return {
    serial: /serial=([0-9A-F]+)/.exec(x509)![1]!,
    issuer: /issuer=(.*)/.exec(x509)![1]!.trim(),
    verified: /Verify return code: 0 \(ok\)/.test(out),
  };
}

async function certificate(domain: string): Promise<any> {
  return (await listAll('/api/v1/certificates', 'certificates')).find((c: { domain: string }) => c.domain === domain);
}

async function provision(tls: boolean): Promise<{ username: string; domain: string }> {
  const username = uniqueName('crt');
  const domain = `${username}.test`;
  const res = await api('POST', '/api/v1/accounts', { username, domain, tls });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const done = await waitClosed(res.body.workflowId, 120_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error ?? done.progress));
  return { username, domain };
}

function snapshot(domain: string) {
  const list = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).sort() : null);
  const vhost = path.join(node.nginx.sitesDir, `${domain}.conf`);
  return {
    certs: list(path.join(node.nginx.certsDir, domain)),
    challenge: list(node.nginx.challengeDir),
    vhost: fs.existsSync(vhost) ? fs.readFileSync(vhost, 'utf8') : null,
  };
}

let issued: { domain: string; serial: string };
let far: { domain: string; serial: string };

test('issuance: provisionAccount with tls serves a Pebble certificate for the domain and www; serial = inventory', async () => {
  const { domain } = await provision(true);
  const s = served(domain);
  assert.ok(s.verified, 'the chain verifies against Pebble issuing root, for this host name');
  assert.match(s.issuer, /Pebble/);
  const www = served(`www.${domain}`);
  assert.equal(www.serial, s.serial, 'one certificate for the domain and www');
  const row = await certificate(domain);
  assert.equal(row.serial, s.serial);
  assert.equal(row.lastOutcome, 'issued');
  assert.match(row.issuer, /Pebble/);
  assert.ok(row.daysLeft > 30, `days left ${row.daysLeft}`);
  assert.equal(row.lastWorkflowId, workflowIds.certificate(domain), "issued under the domain's certificate ID");
  issued = { domain, serial: s.serial };
  const other = await provision(true);
  far = { domain: other.domain, serial: served(other.domain).serial };
});

test('rollback: a renewal whose install breaks nginx (bad key) leaves the previous certificate served and says why', async () => {
  const before = snapshot(issued.domain);
  const workflowId = `renew-${issued.domain}-drill-${Date.now()}`;
  const err = await client.workflow
    .execute('renewCertificate', { taskQueue: CONTROL_TASK_QUEUE, workflowId, args: [{ domain: issued.domain, fault: 'corrupt-key' }] })
    .then(
      () => null,
      (e: unknown) => e,
    );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.match((err.cause as Error).message, /rolled back: .*nginx rejected .*key values mismatch/);
  assert.equal(served(issued.domain).serial, issued.serial, 'the previous certificate is still served');
  const row = await certificate(issued.domain);
  assert.equal(row.serial, issued.serial);
  assert.equal(row.lastOutcome, 'rolled_back');
  assert.equal(row.lastWorkflowId, workflowId);
  assert.match(row.lastError, /key values mismatch/);
  assert.deepEqual(snapshot(issued.domain), before, 'the new pair was removed, the vhost is as it was');
});

test('the schedule exists (temporal schedule list); triggering it runs a sweep that renews only what is near expiry', async () => {
  const list = execFileSync(temporalBinary(), ['schedule', 'list', '--address', stack.file.temporal.address], { encoding: 'utf8' });
  assert.match(list, new RegExp(SCHEDULE_ID));
  // Make one certificate look 5 days from expiry in the inventory (what the sweep reads).
  await pool.query('UPDATE certificates SET not_after = ? WHERE domain = ?', [new Date(Date.now() + 5 * 86_400_000), issued.domain]);
  const since = new Date();
  execFileSync(temporalBinary(), ['schedule', 'trigger', '--schedule-id', SCHEDULE_ID, '--address', stack.file.temporal.address], {
    encoding: 'utf8',
  });
  let sweepId: string | undefined;
  for (let i = 0; i < 100 && !sweepId; i++) {
    for await (const wf of client.workflow.list({
      query: `WorkflowType = 'certificateRenewalSweep' AND StartTime >= '${since.toISOString()}'`,
    }))
      sweepId = wf.workflowId;
    if (!sweepId) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(sweepId?.startsWith(SCHEDULE_ID), `a sweep started by the schedule: ${sweepId}`);
  const totals = await client.workflow.getHandle(sweepId!).result();
  assert.ok(totals.renewed >= 1, JSON.stringify(totals));
  const now = served(issued.domain);
  assert.notEqual(now.serial, issued.serial, 'renewed: a new certificate is served');
  assert.ok(now.verified);
  const row = await certificate(issued.domain);
  assert.equal(row.serial, now.serial);
  assert.equal(row.lastOutcome, 'renewed');
  assert.ok(row.daysLeft > 30);
  assert.equal(row.lastWorkflowId, workflowIds.certificate(issued.domain), "the sweep renews under the domain's certificate ID");
  assert.equal(served(far.domain).serial, far.serial, 'a certificate far from expiry was left alone');
  assert.equal((await certificate(far.domain)).lastOutcome, 'issued');
  // The previous version is kept beside the new one.
  const versions = fs.readdirSync(path.join(node.nginx.certsDir, issued.domain)).sort();
  assert.deepEqual(versions, [issued.serial, now.serial].sort());
});

test('bad input: unknown domain → 404, malformed → 400', async () => {
  assert.equal((await api('POST', '/api/v1/certificates/nosuch-domain.test/renew')).status, 404);
  const bad = await api('POST', '/api/v1/certificates/bad..name/renew');
  assert.equal(bad.status, 400);
});

test('a domain that does not resolve to this node: failed renewal with the CA reason in API and logs; disk unchanged', async () => {
  const { domain } = await provision(false);
  const del = await fetch(`${stack.file.dns.api}/api/v1/servers/localhost/zones/${domain}.`, {
    method: 'DELETE',
    headers: { 'X-API-Key': stack.secrets.pdnsApiKey },
  });
  assert.equal(del.status, 204);
  const before = snapshot(domain);
  const res = await api('POST', `/api/v1/certificates/${domain}/renew`);
  assert.equal(res.status, 202);
  const { workflowId } = res.body;
  const done = await waitClosed(workflowId, 120_000);
  assert.equal(done.status, 'failed');
  assert.match(done.error.message, /CA refused the order .*(could not resolve|NXDOMAIN|DNS problem|no such host|SERVFAIL)/i);
  const row = await certificate(domain);
  assert.equal(row.lastOutcome, 'failed');
  assert.equal(row.lastWorkflowId, workflowId);
  assert.equal(row.serial, null);
  assert.match(row.lastError, /could not resolve|NXDOMAIN|DNS problem|no such host|SERVFAIL/i);
  const log = fs.readFileSync(path.join(stack.file.logs, 'worker.log'), 'utf8');
  assert.ok(
    log
      .split('\n')
      .some((l) => l.includes(workflowId) && l.includes('ACME order failed') && /could not resolve|NXDOMAIN|DNS problem|SERVFAIL/i.test(l)),
    'worker log names the reason',
  );
  // The challenge folder is the node's, shared with other tests' orders running at the same time: the renewal
  // must leave no token of its own there; tokens that come and go for other domains are not its doing.
  const now = snapshot(domain);
  assert.deepEqual({ certs: now.certs, vhost: now.vhost }, { certs: before.certs, vhost: before.vhost }, 'nothing changed on disk');
  assert.deepEqual(
    (now.challenge ?? []).filter((t) => !(before.challenge ?? []).includes(t)),
    [],
    'no challenge token left behind',
  );
});

test('deprovisioning an account with a certificate removes its key and certificate files and its inventory row', async () => {
  const { username, domain } = await provision(true);
  assert.ok(snapshot(domain).certs?.length, 'certificate files exist before');
  const before = served(domain);
  assert.ok(before.verified);
  const res = await api('DELETE', `/api/v1/accounts/${username}`);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const done = await waitClosed(res.body.workflowId, 120_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error ?? done.progress));
  assert.equal(snapshot(domain).certs, null, 'no certificate folder left for the domain');
  assert.equal(await certificate(domain), undefined, 'no certificate row left');
  // Only the default server's self-signed certificate answers now: not Pebble's, not valid for the name.
  const after = served(domain);
  assert.notEqual(after.serial, before.serial);
  assert.equal(after.verified, false);
});
