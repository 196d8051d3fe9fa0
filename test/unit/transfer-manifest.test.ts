import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { excludeList, manifestCommand, parseManifest } from '../../activities/transfer-manifest';

/** A hostile source's listing (what `find -printf` would send if it lied): every escape is refused and reported. */
const entry = (type: string, size: number, name: string, link = '') => `${type}\0${size}\0${1700000000.5}\0${name}\0${link}\0`;

test('names that escape the docroot and symlinks pointing outside are refused and reported', () => {
  const raw = Buffer.from(
    [
      entry('f', 10, 'index.html'),
      entry('d', 4096, 'café'),
      entry('f', 5, 'café/menü 1.html'),
      entry('f', 1, '../../x'),
      entry('f', 1, '/etc/passwd'),
      entry('f', 1, 'a/../../b'),
      entry('l', 0, 'etc', '/etc'),
      entry('l', 0, 'up', '../../..'),
      entry('l', 0, 'deep/up', '../..'),
      entry('l', 0, 'home.html', 'index.html'),
      entry('l', 0, 'café/back', '../index.html'),
      entry('p', 0, 'fifo'),
      entry('f', 3, 'line\nbreak'),
    ].join(''),
  );
  const m = parseManifest(raw);
  assert.deepEqual(
    m.entries.map((e) => e.name),
    ['index.html', 'café', 'café/menü 1.html', 'home.html', 'café/back', 'line\nbreak'],
  );
  assert.deepEqual(
    m.refused.map((r) => r.name),
    ['../../x', '/etc/passwd', 'a/../../b', 'fifo', 'etc', 'up', 'deep/up'],
  );
  assert.equal(m.files, 3);
  assert.equal(m.bytes, 18);
  // Only refused names a real folder can hold become exclusions (a '..' name cannot exist on disk).
  assert.deepEqual(excludeList(m).toString('utf8').split('\0').filter(Boolean), ['/fifo', '/etc', '/up', '/deep/up']);
});

test('a truncated listing is reported, not silently accepted', () => {
  const m = parseManifest(Buffer.from(entry('f', 1, 'a') + 'f\x001\x00'));
  assert.equal(m.entries.length, 1);
  assert.ok(m.refused.some((r) => r.reason.includes('incomplete')));
});

test('rsync with the exclusions copies the accepted entries and nothing refused, wildcard names included', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-excl-'));
  try {
    const src = path.join(tmp, 'src');
    const dst = path.join(tmp, 'dst');
    fs.mkdirSync(path.join(src, 'sub [1]'), { recursive: true });
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(src, 'index.html'), 'hi');
    fs.writeFileSync(path.join(src, 'sub [1]', 'a*b?.txt'), 'ok');
    fs.writeFileSync(path.join(src, 'line\nbreak'), 'nl');
    fs.symlinkSync('/etc', path.join(src, 'etc*'));
    fs.symlinkSync('../../..', path.join(src, 'sub [1]', 'up [x]'));
    fs.symlinkSync('/etc/passwd', path.join(src, 'back\\slash'));
    fs.symlinkSync('index.html', path.join(src, 'home.html'));
    // The same listing the source makes, from the same command line (run locally through sh).
    const m = parseManifest(execFileSync('sh', ['-c', manifestCommand(src)]));
    assert.deepEqual(m.refused.map((r) => r.name).sort(), ['back\\slash', 'etc*', 'sub [1]/up [x]']);
    // No --safe-links here: the exclusions alone must keep the outside symlinks away.
    execFileSync('rsync', ['--from0', '--exclude-from=-', '-rlpt', `${src}/`, `${dst}/`], { input: excludeList(m) });
    const got = execFileSync('find', [dst, '-mindepth', '1', '-printf', '%P\\0'], { encoding: 'utf8' }).split('\0').filter(Boolean).sort();
    assert.deepEqual(got, ['home.html', 'index.html', 'line\nbreak', 'sub [1]', 'sub [1]/a*b?.txt']);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
