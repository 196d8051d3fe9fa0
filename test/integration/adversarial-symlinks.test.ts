import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runProbe } from '../support/peer-probe';
import { loadStack } from '../support/stack';
import { rand } from './migration-helpers';

/**
 * Issue 11, symlinks: a source docroot holding a chain (`b -> .`, `x -> b/b/b/../..`) that passes a lexical
 * check but resolves above the docroot. NPanel judges it itself: it is listed in `refused` by the preflight
 * and by the copy, never lands on this node, and the harmless links next to it are copied. Before, the chain
 * passed the listing check and only rsync's --safe-links dropped it, silently (refused stayed empty).
 * Real OpenSSH source, real rsync; the activities run as the worker runs them (test/support/peer-probe.ts).
 */

const stack = loadStack();
const src = stack.file.migrationSource;
const cleanups: (() => void)[] = [];
after(() => cleanups.reverse().forEach((c) => c()));

const source = {
  host: '127.0.0.1',
  port: src.port,
  user: src.user,
  privateKey: fs.readFileSync(src.privateKey, 'utf8'),
  hostKeyFingerprint: src.hostKeyFingerprint,
};

function hostileDocroot(): string {
  // Deep enough that two levels up is still a real folder of this machine (the source's own home).
  const root = path.join(stack.home, 'source', 'sites', `links-${rand()}.test`);
  const dir = path.join(root, 'public_html');
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'index.html'), '<h1>links</h1>\n');
  fs.writeFileSync(path.join(dir, 'sub', 'page.html'), 'page\n');
  fs.symlinkSync('.', path.join(dir, 'b'));
  fs.symlinkSync('b/b/b/../..', path.join(dir, 'x'));
  fs.symlinkSync('x/public_html/index.html', path.join(dir, 'via-x'));
  fs.symlinkSync('loop2', path.join(dir, 'loop1'));
  fs.symlinkSync('loop1', path.join(dir, 'loop2'));
  fs.symlinkSync('b/b/index.html', path.join(dir, 'home.html'));
  fs.symlinkSync('../index.html', path.join(dir, 'sub', 'back.html'));
  return dir;
}

const ESCAPING = ['loop1', 'loop2', 'via-x', 'x'];

test('a symlink chain that resolves above the docroot is refused by NPanel, reported, and never copied; harmless links are', async () => {
  const docroot = hostileDocroot();
  // The kernel agrees the chain leaves the docroot (the JS realpath would normalise it lexically).
  assert.equal(fs.realpathSync.native(path.join(docroot, 'x')), path.dirname(path.dirname(docroot)));

  const pre = await runProbe({ activity: 'migrationPreflight', source, docroot });
  assert.equal(pre.outcome?.ok, true, JSON.stringify(pre.outcome?.error));
  const listed = pre.outcome!.value as { refused: { name: string; reason: string }[]; refusedCount: number };
  assert.deepEqual(listed.refused.map((r) => r.name).sort(), ESCAPING);
  assert.match(listed.refused.find((r) => r.name === 'x')!.reason, /resolves outside the docroot/);

  const webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-links-web-'));
  cleanups.push(() => fs.rmSync(webRoot, { recursive: true, force: true }));
  const localDir = path.join(webRoot, 'site');
  fs.mkdirSync(localDir);
  const copy = await runProbe({ activity: 'migrationSyncFiles', source, docroot, localDir });
  assert.equal(copy.outcome?.ok, true, JSON.stringify(copy.outcome?.error));
  const synced = copy.outcome!.value as { refused: { name: string; reason: string }[]; refusedCount: number };
  assert.deepEqual([...new Set(synced.refused.map((r) => r.name))].sort(), ESCAPING);

  // What landed: the files and the links that stay inside, nothing else.
  const landed = execFileSync('find', [localDir, '-mindepth', '1', '-printf', '%P\\n'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
  assert.deepEqual(landed, ['b', 'home.html', 'index.html', 'sub', 'sub/back.html', 'sub/page.html']);
  assert.equal(fs.readFileSync(path.join(localDir, 'home.html'), 'utf8'), '<h1>links</h1>\n');
  assert.equal(fs.readFileSync(path.join(localDir, 'sub', 'back.html'), 'utf8'), '<h1>links</h1>\n');
  for (const name of ESCAPING) assert.equal(fs.lstatSync(path.join(localDir, name), { throwIfNoEntry: false }), undefined, name);
});
