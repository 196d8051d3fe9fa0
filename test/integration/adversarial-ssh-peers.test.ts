import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { nodeTaskQueue } from '../../common/task-queues';
import { queueHasPollers } from '../../stack/services/npanel-processes';
import { inventoryPool } from '../support/accounts';
import * as peers from '../support/hostile-peers';
import { runProbe, type ProbeRequest, type ProbeRun } from '../support/peer-probe';
import { loadStack } from '../support/stack';
import { treeHashes } from '../support/tree';
import { ownNodeWorker, type OwnWorker } from '../support/worker-process';
import { adminApi, finished, migrationBody, rand, until, workflow } from './migration-helpers';

/**
 * A migration source that is not what it claims (issue 11, finding 4). Each hostile peer is a real socket
 * server started here; the real migration activities run against it in a child process (the worker's
 * situation), and each must fail that activity only: a clear message, the right retryability, and a process
 * that is still alive afterwards. Before the fix a second ssh2 'error' event ended the process.
 */

const stack = loadStack();
const src = stack.file.migrationSource;
const api = adminApi(stack);
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const target = (port: number, o: { password?: string } = {}) => ({
  host: '127.0.0.1',
  port,
  user: src.user,
  ...(o.password ? { password: o.password } : { privateKey: fs.readFileSync(src.privateKey, 'utf8') }),
  hostKeyFingerprint: src.hostKeyFingerprint,
});

async function preflight(port: number, o: { password?: string; docroot?: string } = {}): Promise<ProbeRun> {
  const req: ProbeRequest = { activity: 'migrationPreflight', source: target(port, o), docroot: o.docroot ?? src.docroot };
  return runProbe(req);
}

/** The probe process lived to report, and the activity failed (never a success built on a broken peer). */
function failedAndSurvived(run: ProbeRun) {
  assert.equal(run.exitCode, 0, `the process died (exit ${run.exitCode}, signal ${run.signal}): ${run.stderr.slice(-1500)}`);
  assert.doesNotMatch(run.stderr, /Unhandled 'error' event|uncaught/i);
  assert.ok(run.outcome, 'the probe reported an outcome');
  assert.equal(run.outcome.ok, false, `the activity succeeded: ${JSON.stringify(run.outcome.value)}`);
  return run.outcome.error!;
}

async function peer<T extends peers.Peer>(p: Promise<T>): Promise<T> {
  const started = await p;
  cleanups.push(() => started.close());
  return started;
}

test("not an SSH server (a MariaDB-like greeting, the stack's real MariaDB, an HTTP server): final SourceNotSsh, the process lives", async () => {
  const mariadbLike = await peer(peers.mariadbLikePeer());
  const http = await peer(peers.httpPeer());
  const ports = { 'MariaDB-like': mariadbLike.port, 'real MariaDB': stack.file.mysql.port, HTTP: http.port };
  const runs = await Promise.all(Object.values(ports).map((port) => preflight(port)));
  for (const [i, [what, port]] of Object.entries(ports).entries()) {
    const err = failedAndSurvived(runs[i]!);
    assert.equal(err.type, 'SourceNotSsh', `${what}: ${err.message}`);
    assert.equal(err.nonRetryable, true, what);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} is not an SSH server`), what);
    // Nothing the peer sent is quoted back (it reaches logs and the console).
    assert.doesNotMatch(err.message, /MariaDB|Bad handshake|HTTP\/1\.1/, what);
    assert.ok(runs[i]!.outcome!.ms < 10_000, `${what}: failed in ${runs[i]!.outcome!.ms} ms`);
  }
});

test('a peer that resets the connection (at once, or after its identification): a retryable error naming the reset', async () => {
  const now = await peer(peers.resetPeer(false));
  const later = await peer(peers.resetPeer(true));
  for (const run of await Promise.all([preflight(now.port), preflight(later.port)])) {
    const err = failedAndSurvived(run);
    assert.equal(err.nonRetryable, false, err.message);
    assert.match(err.message, /ECONNRESET|closed/, err.message);
  }
  assert.ok(now.connections >= 1 && later.connections >= 1);
});

test('a garbage banner (random bytes; an identification followed by garbage packets): final SourceNotSsh, fast', async () => {
  const random = await peer(peers.garbagePeer());
  const afterIdent = await peer(peers.garbageAfterIdentPeer());
  for (const run of await Promise.all([preflight(random.port), preflight(afterIdent.port)])) {
    const err = failedAndSurvived(run);
    assert.equal(err.type, 'SourceNotSsh', err.message);
    assert.equal(err.nonRetryable, true);
    assert.ok(run.outcome!.ms < 10_000, `failed in ${run.outcome!.ms} ms`);
  }
});

test('a huge banner (endless pre-identification lines): refused after 256 KiB, fast, final', async () => {
  const talkative = await peer(peers.hugeBannerPeer());
  const run = await preflight(talkative.port);
  const err = failedAndSurvived(run);
  assert.equal(err.type, 'SourceNotSsh', err.message);
  assert.match(err.message, /more than 262144 bytes before the SSH session was ready/);
  assert.ok(run.outcome!.ms < 10_000, `failed in ${run.outcome!.ms} ms`);
  // The client hung up: the server could not push more than the cap plus what socket buffers hold.
  assert.ok(talkative.sentBytes < 16 * 1024 * 1024, `the peer pushed ${talkative.sentBytes} bytes`);
});

test('a stalling peer (accepts and says nothing; trickles one byte every 500 ms): retryable, bounded by the 15 s handshake limit', async () => {
  const silent = await peer(peers.silentPeer());
  const trickle = await peer(peers.tricklePeer(500));
  const runs = await Promise.all([preflight(silent.port), preflight(trickle.port)]);
  for (const run of runs) {
    const err = failedAndSurvived(run);
    assert.equal(err.nonRetryable, false, err.message);
    assert.match(err.message, /no SSH handshake within 15 s/);
    assert.ok(run.outcome!.ms >= 14_000 && run.outcome!.ms < 25_000, `gave up after ${run.outcome!.ms} ms`);
  }
  assert.ok(trickle.sentBytes >= 20, `the trickle sent ${trickle.sentBytes} bytes`);
});

test('a wrong host key (a real SSH server with a key of its own): final HostKeyMismatch, the password never sent', async () => {
  const impostor = await peer(peers.impostorSshPeer());
  const run = await preflight(impostor.port, { password: `pw-${rand()}` });
  const err = failedAndSurvived(run);
  assert.equal(err.type, 'HostKeyMismatch', err.message);
  assert.equal(err.nonRetryable, true);
  assert.match(err.message, new RegExp(`expected ${src.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}`));
  assert.equal(impostor.connections, 1);
  assert.equal(impostor.authAttempts, 0, 'the client tried to log in to a server whose key it refused');
});

/** A tree on the stack's real source (its files are this machine's, under the stack's source folder). */
function sourceTree(name: string, fill: (dir: string) => void): string {
  const root = path.join(stack.home, 'source', 'sites', `${name}-${rand()}.test`);
  const dir = path.join(root, 'public_html');
  fs.mkdirSync(dir, { recursive: true });
  fill(dir);
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  return dir;
}

test('the source drops mid-listing (real OpenSSH through a proxy that cuts after 64 KiB): retryable, no partial listing accepted', async () => {
  const docroot = sourceTree('peers-list', (dir) => {
    for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(dir, `a-rather-long-file-name-so-the-listing-is-large-${i}.html`), 'x');
  });
  const proxy = await peer(peers.droppingProxy(src.port, 64 * 1024));
  const run = await preflight(proxy.port, { docroot });
  const err = failedAndSurvived(run);
  assert.equal(err.nonRetryable, false, err.message);
  assert.match(err.message, /connection (lost|closed)/, err.message);
  assert.equal(proxy.cuts, 1);
  // The same activity straight to the source lists all 3000 files: the failure was the drop, not the tree.
  const direct = await preflight(src.port, { docroot });
  assert.equal(direct.outcome?.ok, true, JSON.stringify(direct.outcome?.error));
  assert.equal((direct.outcome!.value as { files: number }).files, 3000);
});

test("the source drops mid-copy (rsync's connection cut after 4 MiB): retryable, the retry completes the copy exactly", async () => {
  const docroot = sourceTree('peers-copy', (dir) => {
    for (let i = 0; i < 16; i++) fs.writeFileSync(path.join(dir, `blob-${i}.bin`), crypto.randomBytes(1024 * 1024));
    fs.writeFileSync(path.join(dir, 'index.html'), '<h1>peers</h1>\n');
  });
  const webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-peers-web-'));
  cleanups.push(() => fs.rmSync(webRoot, { recursive: true, force: true }));
  const localDir = path.join(webRoot, 'site');
  fs.mkdirSync(localDir);
  const proxy = await peer(peers.droppingProxy(src.port, 4 * 1024 * 1024));
  const cut = await runProbe({ activity: 'migrationSyncFiles', source: target(proxy.port), docroot, localDir });
  const err = failedAndSurvived(cut);
  assert.equal(err.nonRetryable, false, err.message);
  assert.match(err.message, /rsync exited with/, err.message);
  assert.ok(proxy.cuts >= 1, 'the proxy cut a connection');
  const retry = await runProbe({ activity: 'migrationSyncFiles', source: target(src.port), docroot, localDir, attempt: 2 });
  assert.equal(retry.exitCode, 0, retry.stderr);
  assert.equal(retry.outcome?.ok, true, JSON.stringify(retry.outcome?.error));
  assert.deepEqual(treeHashes(localDir), treeHashes(docroot));
});

test(
  'end to end: a migration whose source.port is the MariaDB port fails at preflight; the worker keeps polling and runs the next migration',
  { timeout: 300_000 },
  async () => {
    const nodeId = 'peers';
    const worker: OwnWorker = await ownNodeWorker(stack, nodeId);
    const accounts: string[] = [];
    cleanups.push(async () => {
      for (const account of accounts) {
        const res = await api(`/api/v1/accounts/${account}`, { method: 'DELETE' });
        if (res.status === 202) await finished(api, res.body.workflowId);
      }
      await worker.stop();
      const pool = inventoryPool(stack);
      await pool.query('DELETE FROM nodes WHERE id = ? AND NOT EXISTS (SELECT 1 FROM accounts WHERE node_id = ?)', [nodeId, nodeId]);
      await pool.end();
    });
    const pid = worker.pid();
    const bad = `p${rand()}`;
    const started = await api('/api/v1/migrations', {
      method: 'POST',
      body: migrationBody(stack, { account: bad, domain: `${bad}.test`, node: nodeId, port: stack.file.mysql.port }),
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const badId = started.body.workflowId as string;
    const waiting = await until(
      `${badId} at the operator gate`,
      async () => {
        const w = await workflow(api, badId);
        if (w.closedAt) throw new Error(`closed: ${JSON.stringify(w.error)}`);
        return w.status === 'awaiting_operator' ? w : undefined;
      },
      120_000,
    );
    assert.equal(waiting.progress.operator.step, 'preflight');
    assert.equal(waiting.progress.operator.errorType, 'SourceNotSsh');
    assert.match(waiting.progress.operator.error, new RegExp(`:${stack.file.mysql.port} is not an SSH server`));

    // The same worker process is alive and still polls its node's queue.
    assert.doesNotThrow(() => process.kill(pid, 0), 'the worker process is gone');
    assert.equal(await queueHasPollers(stack.file.temporal.address, nodeTaskQueue(nodeId), 'activity', pid), true);

    // It runs the next migration (the real source) to completion.
    const good = `p${rand()}`;
    accounts.push(good);
    const next = await api('/api/v1/migrations', {
      method: 'POST',
      body: migrationBody(stack, { account: good, domain: `${good}.test`, node: nodeId }),
    });
    assert.equal(next.status, 202, JSON.stringify(next.body));
    const done = await finished(api, next.body.workflowId, 240_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.error ?? done.progress?.errors));
    assert.equal(worker.pid(), pid, 'no restart happened in between');
    assert.doesNotThrow(() => process.kill(pid, 0));

    // The failed one rolls back at the operator's word and leaves nothing behind.
    assert.equal((await api(`/api/v1/migrations/${badId}/resolve`, { method: 'POST', body: { action: 'rollback' } })).status, 200);
    const rolled = await finished(api, badId);
    assert.equal(rolled.status, 'failed');
    assert.match(rolled.error.message, /rolled back/);
    assert.equal((await api(`/api/v1/accounts/${bad}`)).status, 404);
  },
);
