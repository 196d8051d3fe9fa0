import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { apiClient, uniqueName } from '../support/accounts';
import { loadStack, stackClient } from '../support/stack';

/**
 * Issue 11, finding 5 and the renewal bound: two requests at once never damage a site's HTTPS, and a suspended
 * account gets no renewal. Checked as a user would: a TLS handshake with SNI against the node's nginx, verified
 * against Pebble's root for the site's own host name, compared with what the inventory says.
 */

const stack = loadStack();
const { api, waitClosed, listAll } = apiClient(stack);
let connection: Connection;
let client: Client;

before(async () => {
  connection = await Connection.connect({ address: stack.file.temporal.address });
  client = stackClient(connection, stack);
});
after(async () => connection?.close());

interface Served {
  authorized: boolean;
  authorizationError: string | null;
  serial: string;
  fingerprint256: string;
  notAfter: string;
  san: string;
}

/** A real TLS client: SNI handshake to nginx, chain and host name checked against Pebble's root. */
function handshake(servername: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port: stack.file.nginx.https,
        servername,
        rejectUnauthorized: false,
        ca: fs.readFileSync(stack.file.acme.issuerRoot!),
      },
      () => {
        const cert = socket.getPeerCertificate();
        const hostError = tls.checkServerIdentity(servername, cert);
        const served: Served = {
          authorized: socket.authorized && !hostError,
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : (hostError?.message ?? null),
          serial: cert.serialNumber?.toUpperCase() ?? '',
          fingerprint256: cert.fingerprint256 ?? '',
          notAfter: cert.valid_to ? new Date(cert.valid_to).toISOString() : '',
          san: cert.subjectaltname ?? '',
        };
        socket.end();
        resolve(served);
      },
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('TLS handshake timeout')));
    socket.on('error', reject);
  });
}

async function inventoryRow(domain: string): Promise<any> {
  return (await listAll('/api/v1/certificates', 'certificates')).find((c: { domain: string }) => c.domain === domain);
}

async function provision(prefix: string, tlsOn: boolean): Promise<{ username: string; domain: string }> {
  const username = uniqueName(prefix);
  const domain = `${username}.test`;
  const res = await api('POST', '/api/v1/accounts', { username, domain, tls: tlsOn });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const done = await waitClosed(res.body.workflowId, 120_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error ?? done.progress));
  return { username, domain };
}

async function assertServesOwnCertificate(domain: string): Promise<void> {
  const served = await handshake(domain);
  assert.ok(served.authorized, `the certificate served for ${domain} verifies for that name: ${served.authorizationError}`);
  assert.ok(served.san.split(', ').includes(`DNS:${domain}`), `SAN ${served.san} names ${domain}`);
  const row = await inventoryRow(domain);
  assert.ok(row, 'the inventory lists the certificate');
  assert.equal(row.serial, served.serial, 'inventory serial = served serial');
  assert.equal(row.notAfter, served.notAfter, 'inventory notAfter = served notAfter');
}

test(
  'finding 5: three concurrent renewals of one domain join one operation; the site keeps serving its own certificate, the inventory agrees',
  { timeout: 300_000 },
  async () => {
    const { domain } = await provision('cc', true);
    // A neighbour with its own certificate: the bug left nginx serving another site's certificate.
    const neighbour = await provision('cn', true);
    const before = await handshake(domain);
    const answers = await Promise.all([1, 2, 3].map(() => api('POST', `/api/v1/certificates/${domain}/renew`)));
    for (const a of answers) assert.ok(a.status === 202 || a.status === 200, JSON.stringify(a.body));
    const ids = new Set(answers.map((a) => a.body.workflowId as string));
    const closed = await Promise.all([...ids].map((id) => waitClosed(id, 180_000)));
    await assertServesOwnCertificate(domain);
    assert.equal(ids.size, 1, `concurrent requests join one certificate operation, got ${[...ids].join(', ')}`);
    assert.equal(closed[0].status, 'completed', JSON.stringify(closed[0].error ?? closed[0].progress));
    assert.notEqual((await handshake(domain)).serial, before.serial, 'the joined renewal did renew');
    await assertServesOwnCertificate(neighbour.domain);

    // A request after the operation ended starts the next one (the per-domain ID is free again).
    const again = await api('POST', `/api/v1/certificates/${domain}/renew`);
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal((await waitClosed(again.body.workflowId, 180_000)).status, 'completed');
    await assertServesOwnCertificate(domain);
  },
);

test(
  'finding 5: a renewal racing deprovisioning queues; nothing of the domain is left served or listed',
  { timeout: 300_000 },
  async () => {
    const { username, domain } = await provision('cd', true);
    const renew = await api('POST', `/api/v1/certificates/${domain}/renew`);
    assert.equal(renew.status, 202, JSON.stringify(renew.body));
    const gone = await api('DELETE', `/api/v1/accounts/${username}`);
    assert.equal(gone.status, 202, JSON.stringify(gone.body));
    const removed = await waitClosed(gone.body.workflowId, 240_000);
    assert.equal(removed.status, 'completed', JSON.stringify(removed.error ?? removed.progress));
    const renewed = await waitClosed(renew.body.workflowId, 10_000);
    assert.ok(renewed.closedAt, 'the renewal ended before the removal ran');
    assert.equal(await inventoryRow(domain), undefined, 'no inventory row left');
    const served = await handshake(domain).catch(() => null);
    assert.ok(!served || !served.san.split(', ').includes(`DNS:${domain}`), `nginx no longer serves a certificate of ${domain}`);
  },
);

test('bounds: a renewal of a suspended account is a 409 naming why; the workflow itself refuses too', { timeout: 240_000 }, async () => {
  const { username, domain } = await provision('cs', false);
  const suspend = await api('POST', `/api/v1/accounts/${username}/suspend`);
  assert.equal(suspend.status, 202, JSON.stringify(suspend.body));
  assert.equal((await waitClosed(suspend.body.workflowId)).status, 'completed');

  const res = await api('POST', `/api/v1/certificates/${domain}/renew`);
  assert.equal(res.status, 409, JSON.stringify(res.body));
  assert.equal(res.body.error, 'conflict');
  assert.match(res.body.message, /suspended/);

  // The suspension raced the API's check: the workflow, started past the API, refuses at its lookup.
  const handle = await client.workflow.start('renewCertificate', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: `renew-race-${crypto.randomUUID()}`,
    args: [{ domain }],
  });
  const failure = await handle.result().then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(failure instanceof WorkflowFailedError, 'the renewal fails');
  assert.match(String((failure.cause as Error | undefined)?.message), /suspended/);
  assert.equal((await inventoryRow(domain))?.serial ?? null, null, 'no certificate was ordered');
});
