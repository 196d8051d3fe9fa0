import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { linkJudge, listingLookup, localLookup, removeEscapingLinks } from '../../activities/symlink-resolve';

/**
 * Links of a hostile docroot, each with where the kernel takes it: `inside` (resolves below the docroot, or
 * would once a missing name exists) or `outside`. The same table is judged from a listing and from a real
 * folder, and checked against the kernel's own realpath.
 */
const LINKS: [name: string, target: string, verdict: 'inside' | 'outside'][] = [
  ['b', '.', 'inside'],
  // The finding: lexically `b`, really two levels above the docroot.
  ['x', 'b/b/b/../..', 'outside'],
  ['x2', 'b/b/index.html', 'inside'],
  ['abs', '/etc', 'outside'],
  ['through', 'abs/passwd', 'outside'],
  ['via-x', 'x', 'outside'],
  ['loop1', 'loop2', 'outside'],
  ['loop2', 'loop1', 'outside'],
  ['self', 'self/a', 'outside'],
  ['sub/back', '../index.html', 'inside'],
  ['sub/up', '../..', 'outside'],
  ['sub/b-up', '../b/sub/../..', 'outside'],
  ['d2', 'sub', 'inside'],
  ['d3', 'd2/../index.html', 'inside'],
  ['d4', 'd2/../..', 'outside'],
  ['ghost', 'nothere/file', 'inside'],
  ['ghost-up', 'nothere/../../x', 'outside'],
  ['empty-dots', './././', 'inside'],
];

const FILES = ['index.html', 'sub/page.html'];

function listing() {
  return [
    { name: 'index.html', type: 'f' },
    { name: 'sub', type: 'd' },
    { name: 'sub/page.html', type: 'f' },
    ...LINKS.map(([name, link]) => ({ name, type: 'l', link })),
  ];
}

function buildTree(root: string) {
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  for (const f of FILES) fs.writeFileSync(path.join(root, f), f);
  for (const [name, target] of LINKS) fs.symlinkSync(target, path.join(root, name));
}

test('a link is judged by walking its target through every intermediate link, as the kernel does', () => {
  const inside = linkJudge(listingLookup(listing()));
  const got = LINKS.map(([name]) => [name, inside(name) ? 'inside' : 'outside']);
  assert.deepEqual(
    got,
    LINKS.map(([name, , verdict]) => [name, verdict]),
  );
});

test('the verdicts match the kernel: every link judged inside really resolves below the docroot, every resolving outside one leaves it', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-links-'));
  try {
    const root = path.join(tmp, 'a', 'b', 'c', 'docroot');
    buildTree(root);
    const inside = linkJudge(localLookup(root));
    for (const [name, , verdict] of LINKS) {
      assert.equal(inside(name) ? 'inside' : 'outside', verdict, name);
      let real: string | null = null;
      try {
        real = fs.realpathSync.native(path.join(root, name)); // libc: the JS realpath normalises `..` lexically first
      } catch {
        real = null; // dangling or looping: the kernel resolves it nowhere
      }
      if (name === 'x') assert.ok(real !== null && !real.startsWith(root), `the finding's chain resolves (outside): ${real}`);
      const below = real !== null && (real === root || real.startsWith(root + path.sep));
      if (real !== null) assert.equal(below, verdict === 'inside', `${name} -> ${real}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('after a copy, escaping links are removed (never their targets) and reported; the rest stays', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-links-'));
  try {
    const root = path.join(tmp, 'docroot');
    buildTree(root);
    const removed = removeEscapingLinks(root);
    const outside = LINKS.filter(([, , v]) => v === 'outside')
      .map(([n]) => n)
      .sort();
    assert.deepEqual(removed.map((r) => r.name).sort(), outside);
    assert.equal(removed.find((r) => r.name === 'x')?.link, 'b/b/b/../..');
    for (const n of outside) assert.equal(fs.lstatSync(path.join(root, n), { throwIfNoEntry: false }), undefined, n);
    for (const [n, , v] of LINKS) if (v === 'inside') assert.ok(fs.lstatSync(path.join(root, n)).isSymbolicLink(), n);
    for (const f of FILES) assert.equal(fs.readFileSync(path.join(root, f), 'utf8'), f);
    assert.ok(fs.existsSync('/etc/passwd'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("a chain of links: up to 40 followed resolves (the kernel's limit), longer is refused; 20,000 links judged at once", () => {
  const n = 20_000;
  const entries = [
    { name: 'index.html', type: 'f' },
    { name: 'l1', type: 'l', link: 'index.html' },
  ];
  for (let i = 2; i <= n; i++) entries.push({ name: `l${i}`, type: 'l', link: `l${i - 1}` });
  entries.push({ name: 'out', type: 'l', link: 'l3/../..' });
  const inside = linkJudge(listingLookup(entries));
  const t0 = performance.now();
  // Judged from the far end first: the deepest recursion must not overflow the stack.
  for (let i = n; i >= 1; i -= 1) assert.equal(inside(`l${i}`), i <= 40, `l${i}`);
  assert.equal(inside('out'), false);
  assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0} ms`);
});
