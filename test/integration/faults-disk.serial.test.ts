import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminPool, apiClient, nodePaths, sleep, uniqueName } from '../support/accounts';
import { startFaultStack, type FaultStack } from '../support/fault-stack';
import { checkConsistency } from './faults-consistency';
import { migrationBody } from './migration-helpers';

/**
 * A full disk on the target during a migration: node a's web root is a small tmpfs, nearly filled before the
 * migration starts, so the site's files cannot land. The migration must stop at the operator gate with an
 * error that says why, the source (files and database) must be untouched, and a rollback must leave the
 * target as it was. Serial: a stack of its own and a mount.
 */
const execFileP = promisify(execFile);
const PORT_BASE = 29500;
let faults: FaultStack;
let webRoot: string;
let mounted = false;

before(async () => {
  faults = await startFaultStack('disk', PORT_BASE);
  webRoot = nodePaths(faults.stack, faults.stack.file.node.id).nginx.webRoot;
  assert.deepEqual(fs.readdirSync(webRoot), [], 'a fresh stack has no docroots');
  await execFileP('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', webRoot]);
  mounted = true;
});
after(async () => {
  if (mounted) await execFileP('umount', [webRoot]).catch(() => execFileP('umount', ['-l', webRoot]));
  await faults?.down();
});

function treeHash(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const e of fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .sort((a, b) => path.join(a.parentPath, a.name).localeCompare(path.join(b.parentPath, b.name)))) {
    const p = path.join(e.parentPath, e.name);
    const st = fs.lstatSync(p);
    h.update(`${path.relative(dir, p)}\0${st.mode}\0${st.mtimeMs}\0`);
    if (e.isFile()) h.update(fs.readFileSync(p));
  }
  return h.digest('hex');
}

async function sourceDbChecksum(): Promise<string> {
  const admin = adminPool(faults.stack);
  try {
    const [tables] = await admin.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' ORDER BY 1");
    const names = (tables as { t: string }[]).map((r) => `shop.\`${r.t}\``);
    assert.ok(names.length > 0, 'the source has tables');
    const [sums] = await admin.query(`CHECKSUM TABLE ${names.join(', ')}`);
    return JSON.stringify(sums);
  } finally {
    await admin.end();
  }
}

test(
  'disk full on the target during a migration: stops at the gate with a clear error, the source is untouched',
  { timeout: 300_000 },
  async (t) => {
    const { api, waitClosed } = apiClient(faults.stack);
    const filler = path.join(webRoot, 'filler');
    const source = faults.stack.file.migrationSource;
    const sourceBefore = treeHash(source.docroot);
    const dbBefore = await sourceDbChecksum();

    const account = uniqueName('disk');
    const body = migrationBody(faults.stack, { account, domain: `${account}.example`, databases: ['shop'] });
    const res = await api('POST', '/api/v1/migrations', body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id = res.body.workflowId as string;

    // The preflight checks free space (1 MiB is plenty): once it passed, the disk fills up, leaving room for the
    // account's docroot and default page but not for the site (~100 KB in ~100 files).
    let filled = false;
    let waiting: any;
    const deadline = Date.now() + 180_000;
    while (!waiting) {
      const w = (await api('GET', `/api/v1/workflows/${id}`)).body;
      const preflight = w.progress?.steps?.find((x: { name: string }) => x.name === 'preflight');
      if (!filled && preflight?.status === 'done') {
        const stat = fs.statfsSync(webRoot);
        fs.writeFileSync(filler, Buffer.alloc(Math.max(0, stat.bavail * stat.bsize - 24 * 1024)));
        filled = true;
        continue;
      }
      if (w.status === 'awaiting_operator' && w.progress?.operator) waiting = w;
      else if (w.closedAt)
        assert.fail(`the migration closed instead of waiting at the gate: ${JSON.stringify(w.error)} ${JSON.stringify(w.progress)}`);
      else if (Date.now() > deadline) assert.fail(`no gate after 180 s: ${JSON.stringify(w.progress)}`);
      else await sleep(500);
    }
    assert.ok(filled, 'the disk was filled after the preflight');
    const gate = waiting.progress.operator;
    assert.notEqual(gate.step, 'preflight', 'the failure came during the copy, not from the preflight');
    t.diagnostic(`gate at step ${gate.step}: ${gate.error}`);
    assert.match(gate.error, /no space left|ENOSPC|disk (is )?full|not enough (disk|space)|free space/i, 'the error says the disk is full');
    assert.ok(gate.actions.includes('rollback'), JSON.stringify(gate.actions));
    assert.equal(treeHash(source.docroot), sourceBefore, 'source files untouched');
    assert.equal(await sourceDbChecksum(), dbBefore, 'source database untouched');

    const r = await api('POST', `/api/v1/migrations/${encodeURIComponent(id)}/resolve`, { action: 'rollback' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const done = await waitClosed(id, 180_000);
    t.diagnostic(`after rollback: ${done.status} ${done.error?.type ?? ''} phase ${done.progress?.phase}`);
    assert.notEqual(done.status, 'completed');
    assert.equal(done.progress?.phase, 'rolled_back', JSON.stringify(done.progress));
    assert.equal((await api('GET', `/api/v1/accounts/${account}`)).status, 404, 'the target account is gone');

    fs.rmSync(filler, { force: true });
    const c = await checkConsistency(faults.stack);
    assert.deepEqual(c.problems, []);
    assert.equal(c.accounts, 0, 'nothing left on the target');
    assert.equal(treeHash(source.docroot), sourceBefore, 'source files untouched after the rollback');
    assert.equal(await sourceDbChecksum(), dbBefore, 'source database untouched after the rollback');
  },
);
