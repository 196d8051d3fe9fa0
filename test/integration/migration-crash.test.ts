import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { inventoryPool } from '../support/accounts';
import { loadStack } from '../support/stack';
import { ownNodeWorker, type OwnWorker } from '../support/worker-process';
import { adminApi, dirBytes, finished, migrationBody, rand, targetDocroot, treeHashes, until } from './migration-helpers';

/**
 * SIGKILL of the worker that runs the file transfer, then a restart: the migration completes, files match,
 * what is sent again is ≤ 10% of the total, and the private key copy the killed run left is gone. The killed
 * worker is the test's own (node "c", sharing node a's daemons on its own task queue), so no other test loses
 * its worker; see test/support/worker-process.ts.
 */

const stack = loadStack();
const api = adminApi(stack);
let worker: OwnWorker | undefined;
let srcRoot: string | undefined;
let migrated: string | undefined;
after(async () => {
  // Leave the shared stack healthy: node c's account goes (its worker still runs), then node c is retired,
  // so the health checks no longer expect a worker on npanel-node-c.
  if (migrated) {
    const res = await api(`/api/v1/accounts/${migrated}`, { method: 'DELETE' });
    if (res.status === 202) await finished(api, res.body.workflowId);
  }
  await worker?.stop();
  const pool = inventoryPool(stack);
  await pool.query('DELETE FROM nodes WHERE id = ? AND NOT EXISTS (SELECT 1 FROM accounts WHERE node_id = ?)', ['c', 'c']);
  await pool.end();
  if (srcRoot) fs.rmSync(srcRoot, { recursive: true, force: true });
});

const FILES = 600;
const SIZE = 256 * 1024; // 150 MiB: long enough to kill half-way on a loopback copy

function credentialDirs(pid: number): string[] {
  return fs
    .readdirSync(os.tmpdir())
    .filter((n) => n.startsWith(`npanel-ssh-${pid}-`))
    .map((n) => path.join(os.tmpdir(), n));
}

test(
  'a worker killed during the file copy resumes it: files match, ≤ 10% sent again, its key copy swept',
  { timeout: 300_000 },
  async () => {
    worker = await ownNodeWorker(stack, 'c');
    const account = `c${rand()}`;
    const domain = `${account}.test`;
    srcRoot = path.join(stack.home, 'source', 'sites', domain);
    const src = path.join(srcRoot, 'public_html');
    for (let i = 0; i < FILES; i++) {
      const f = path.join(src, `d${i % 20}`, `file ${i}.bin`);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, crypto.randomBytes(SIZE));
    }
    fs.writeFileSync(path.join(src, 'index.html'), '<h1>big</h1>\n');
    const total = FILES * SIZE;
    migrated = account;
    const res = await api('/api/v1/migrations', {
      method: 'POST',
      body: migrationBody(stack, { account, domain, docroot: src, node: 'c' }),
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id = res.body.workflowId;

    // The web root of node c is node a's (shared daemons), so the copy shows up under node a's folder.
    const docroot = targetDocroot(stack, account, domain);
    await until('a third of the bytes copied', async () => (dirBytes(docroot) > total / 3 ? true : undefined), 120_000, 50);
    const killedPid = worker.pid();
    await worker.kill();
    const before = dirBytes(docroot);
    assert.ok(before < total, 'killed before the copy finished');
    // The killed rsync run's private key copy is still on disk; the restarted worker sweeps it at start.
    const leftovers = credentialDirs(killedPid);
    assert.ok(
      leftovers.some((d) => fs.existsSync(path.join(d, 'id'))),
      `a key copy of pid ${killedPid} was left (${leftovers.join(', ')})`,
    );
    await worker.start();
    assert.deepEqual(
      leftovers.filter((d) => fs.existsSync(d)),
      [],
      "the restarted worker removed the dead worker's key copies",
    );

    const w = await finished(api, id, 240_000);
    assert.equal(w.status, 'completed', JSON.stringify(w.error ?? w.progress?.errors));
    assert.deepEqual(treeHashes(docroot), treeHashes(src));
    const t = w.progress.transfer;
    assert.ok(t.attempt >= 2, `the copy was retried (attempt ${t.attempt})`);
    assert.ok(
      t.alreadyPresentBytes >= before - 2 * SIZE,
      `the resumed attempt found ${t.alreadyPresentBytes} bytes in place (${before} at the kill)`,
    );
    // Sent again = what the resumed attempt sent minus what had never been sent before the kill.
    const resent = t.literalBytes - (total - before);
    assert.ok(resent <= total * 0.1, `re-sent ${resent} bytes of ${total}`);
  },
);
