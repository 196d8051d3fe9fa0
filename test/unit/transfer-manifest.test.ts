import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filesFromList, parseManifest } from '../../activities/transfer-manifest';

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
  assert.deepEqual(m.entries.map((e) => e.name), ['index.html', 'café', 'café/menü 1.html', 'home.html', 'café/back', 'line\nbreak']);
  assert.deepEqual(m.refused.map((r) => r.name), ['../../x', '/etc/passwd', 'a/../../b', 'etc', 'up', 'deep/up', 'fifo']);
  assert.equal(m.files, 3);
  assert.equal(m.bytes, 18);
  assert.equal(filesFromList(m).toString('utf8').split('\0').filter(Boolean).length, 6);
});

test('a truncated listing is reported, not silently accepted', () => {
  const m = parseManifest(Buffer.from(entry('f', 1, 'a') + 'f\x001\x00'));
  assert.equal(m.entries.length, 1);
  assert.ok(m.refused.some((r) => r.reason.includes('incomplete')));
});
