import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Connection, type TLSConfig } from '@temporalio/client';
import YAML from 'yaml';
import { loadTemporalYaml, repoRoot } from '../../config/load';
import type { StackSecrets } from '../../stack/context';
import { isPortFree, stackPorts } from '../../stack/ports';
import { ensureGoTools } from '../../stack/services/go-tools';
import { temporalBinary } from '../../stack/services/temporal';
import type { StackFile } from '../../stack/stack-file';
import { stackHome } from '../../stack/state-home';
import { apiClient, dig, uniqueName } from '../support/accounts';
import type { LoadedStack } from '../support/stack';

/**
 * `bin/npanel up --temporal cluster` as an operator runs it, on a stack of its own (own home, own ports): the
 * real Temporal server on PostgreSQL behind an mTLS frontend. Checked with the `temporal` CLI and TLS
 * clients as an operator would, and with an account provisioned through the API and answered by `dig`.
 * Nothing is skipped: missing binaries are built first (once per machine, minutes), and a failed build fails.
 */

const execFileP = promisify(execFile);
const root = repoRoot();
const home = stackHome('.npanel-cluster-test');
const PORT_BASE = 29300;
let stack: LoadedStack;
let readyMs = 0;
let provisioned: { username: string; workflowId: string } | undefined;

async function npanel(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), ...args], {
      timeout: 180_000,
      env: process.env,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`npanel ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

/** The `temporal` CLI with the stack's client certificate unless `tls` says otherwise. */
async function temporalCli(args: string[], tls: string[] | 'stack' = 'stack') {
  const t = stack.file.temporal.tls!;
  const tlsArgs = tls === 'stack' ? ['--tls-ca-path', t.ca, '--tls-cert-path', t.cert, '--tls-key-path', t.key] : tls;
  return execFileP(temporalBinary(), [...args, '--address', stack.file.temporal.address, ...tlsArgs, '-o', 'json'], { timeout: 20_000 });
}

before(async () => {
  // A cold build is 5-9 minutes on 2 cores; with the binaries cached this returns at once.
  await ensureGoTools((line) => process.stdout.write(`# ${line}\n`));
  await npanel('down', '--home', home).catch(() => undefined);
  fs.rmSync(home, { recursive: true, force: true });
  await npanel('up', '--temporal', 'cluster', '--detach', '--home', home, '--port-base', String(PORT_BASE));
  readyMs = (JSON.parse(fs.readFileSync(path.join(home, 'up.ready'), 'utf8')) as { readyMs: number }).readyMs;
  process.stdout.write(`# cluster stack ready in ${(readyMs / 1000).toFixed(1)} s (binaries cached)\n`);
  stack = {
    home,
    file: JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')) as StackFile,
    secrets: JSON.parse(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')) as StackSecrets,
  };
});

after(async () => {
  await npanel('down', '--home', home);
});

test('stack.json names the cluster mode and an operator client certificate from the stack CA', () => {
  const t = stack.file.temporal;
  assert.equal(t.mode, 'cluster');
  assert.equal(t.namespace, 'npanel');
  assert.ok(t.tls, 'temporal.tls is set');
  for (const f of [t.tls.ca, t.tls.cert, t.tls.key]) assert.ok(fs.existsSync(f), f);
  assert.equal(fs.statSync(t.tls.key).mode & 0o077, 0, 'the client key is private');
  const cert = new crypto.X509Certificate(fs.readFileSync(t.tls.cert));
  assert.ok(cert.verify(new crypto.X509Certificate(fs.readFileSync(t.tls.ca)).publicKey), 'signed by the stack CA');
});

test('temporal operator cluster describe (client certificate): PostgreSQL persistence and visibility, at least 4 shards', async () => {
  const { stdout } = await temporalCli(['operator', 'cluster', 'describe']);
  const info = JSON.parse(stdout) as {
    persistenceStore: string;
    visibilityStore: string;
    historyShardCount: number;
    serverVersion: string;
  };
  assert.equal(info.persistenceStore, 'postgres12');
  assert.equal(info.visibilityStore, 'postgres12');
  assert.ok(info.historyShardCount >= 4, `shards: ${info.historyShardCount}`);
  // The server really runs production's file: its shard count is that file's.
  const production = YAML.parse(fs.readFileSync(path.join(root, 'deploy', 'temporal', 'config', 'production.yaml'), 'utf8'));
  assert.equal(info.historyShardCount, production.persistence.numHistoryShards);
  assert.equal(info.serverVersion, '1.32.1');
});

test('the npanel namespace has the retention temporal.yaml gives', async () => {
  const { stdout } = await temporalCli(['operator', 'namespace', 'describe', '-n', 'npanel']);
  const ns = JSON.parse(stdout) as { config: { workflowExecutionRetentionTtl: string } };
  const days = loadTemporalYaml(path.join(root, 'temporal.yaml')).retentionDays;
  assert.equal(ns.config.workflowExecutionRetentionTtl, `${days * 86_400}s`);
});

test('the frontend refuses a client without a certificate, with a foreign one, and without TLS', async () => {
  const t = stack.file.temporal.tls!;
  const address = stack.file.temporal.address;
  const describe = async (tls: TLSConfig | undefined) => {
    const connection = await Connection.connect({ address, tls, connectTimeout: 3000 });
    try {
      return await connection.workflowService.getSystemInfo({});
    } finally {
      await connection.close();
    }
  };
  const ca = fs.readFileSync(t.ca);
  // The same call with the stack's certificate works: what is refused below is the missing certificate.
  assert.ok(
    await describe({
      serverRootCACertificate: ca,
      clientCertPair: { crt: fs.readFileSync(t.cert), key: fs.readFileSync(t.key) },
      serverNameOverride: 'localhost',
    }),
  );
  await assert.rejects(describe({ serverRootCACertificate: ca, serverNameOverride: 'localhost' }), 'TLS without a client certificate');

  // A certificate that no one but its holder signed.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-cluster-'));
  try {
    await execFileP('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=intruder',
      '-addext',
      'extendedKeyUsage=clientAuth',
      '-keyout',
      path.join(tmp, 'k.pem'),
      '-out',
      path.join(tmp, 'c.pem'),
    ]);
    await assert.rejects(
      describe({
        serverRootCACertificate: ca,
        clientCertPair: { crt: fs.readFileSync(path.join(tmp, 'c.pem')), key: fs.readFileSync(path.join(tmp, 'k.pem')) },
        serverNameOverride: 'localhost',
      }),
      'a client certificate from another CA',
    );
    await assert.rejects(describe(undefined), 'plain gRPC to the TLS port');

    // The frontend's HTTP API (same TLS settings): 200 with the stack's certificate, a failed handshake without.
    const httpApi = (cert?: { cert: Buffer; key: Buffer }) =>
      new Promise<number>((resolve, reject) => {
        const req = https.get(
          {
            host: '127.0.0.1',
            port: stackPorts(PORT_BASE).temporalHttp,
            path: '/api/v1/namespaces',
            ca,
            servername: 'localhost',
            timeout: 5000,
            ...cert,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.once('timeout', () => req.destroy(new Error('timeout')));
        req.once('error', reject);
      });
    assert.equal(await httpApi({ cert: fs.readFileSync(t.cert), key: fs.readFileSync(t.key) }), 200);
    await assert.rejects(httpApi(), 'HTTPS without a client certificate');

    // The operator's CLI, as a user would try it: CA only, then no TLS at all.
    await assert.rejects(temporalCli(['operator', 'cluster', 'describe'], ['--tls-ca-path', t.ca]), /certificate|tls|handshake/i);
    await assert.rejects(temporalCli(['operator', 'cluster', 'describe'], []));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('an account provisioned through the API completes on the cluster and dig answers for it', async () => {
  const { api, waitClosed } = apiClient(stack);
  const username = uniqueName('clus');
  const domain = `${username}.example`;
  const res = await api('POST', '/api/v1/accounts', { username, domain });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const wf = await waitClosed(res.body.workflowId);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
  provisioned = { username, workflowId: res.body.workflowId };

  const answer = await dig(stack, `${domain}.`, 'A');
  assert.equal(answer.status, 'NOERROR');
  assert.deepEqual(answer.answers, [stack.file.node.ip]);
  // It ran on the cluster: the operator sees it there, in the npanel namespace, completed.
  const { stdout } = await temporalCli(['workflow', 'describe', '-n', 'npanel', '-w', res.body.workflowId]);
  assert.equal(
    (JSON.parse(stdout) as { workflowExecutionInfo: { status: string } }).workflowExecutionInfo.status,
    'WORKFLOW_EXECUTION_STATUS_COMPLETED',
  );
});

test('Temporal Web serves the npanel namespace through its client certificate, with the API as codec endpoint', async () => {
  const settings = (await (await fetch(`${stack.file.temporal.ui}/api/v1/settings`, { signal: AbortSignal.timeout(5000) })).json()) as {
    Codec: { Endpoint: string };
  };
  assert.equal(settings.Codec.Endpoint, `${stack.file.api}/codec`);
  const list = await fetch(`${stack.file.temporal.ui}/api/v1/namespaces/npanel/workflows`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(list.status, 200, 'the UI server reaches the mTLS frontend');
});

test('down stops every cluster process and frees its ports; up again finds the account and its history', async () => {
  assert.ok(provisioned, 'the provisioning test ran first');
  await npanel('down', '--home', home);
  const ports = stackPorts(PORT_BASE);
  for (const port of [ports.temporal, ports.temporalUi, ports.temporalHttp, ...Object.values(ports.cluster)]) {
    assert.equal(await isPortFree(port), true, `port ${port} is free after down`);
  }
  await npanel('up', '--temporal', 'cluster', '--detach', '--home', home, '--port-base', String(PORT_BASE));
  const again = (JSON.parse(fs.readFileSync(path.join(home, 'up.ready'), 'utf8')) as { readyMs: number }).readyMs;
  process.stdout.write(`# cluster stack ready again in ${(again / 1000).toFixed(1)} s (existing PostgreSQL data)\n`);
  const { api } = apiClient(stack);
  const account = await api('GET', `/api/v1/accounts/${provisioned.username}`);
  assert.equal(account.status, 200);
  assert.equal(account.body.status, 'active');
  const { stdout } = await temporalCli(['workflow', 'describe', '-n', 'npanel', '-w', provisioned.workflowId]);
  assert.equal(
    (JSON.parse(stdout) as { workflowExecutionInfo: { status: string } }).workflowExecutionInfo.status,
    'WORKFLOW_EXECUTION_STATUS_COMPLETED',
  );
});
