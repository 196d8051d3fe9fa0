import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { checkRemotePath, quoteArg, remoteCommand } from '../../activities/remote-quote';

/** Hostile arguments: each must reach the program as exactly one literal argument, in sh and in bash. */
const HOSTILE = [
  "it's",
  '$(touch /tmp/pwned-npanel)',
  '`id`',
  'a b\tc\nd',
  '; rm -rf /',
  '"double"',
  '\\back\\slash',
  '*',
  '~root',
  '-rf',
  '',
  "'",
  "''",
  '!event',
  '${HOME}',
  'naïve 日本語 ✓',
  '--',
  'x|y&z>w<v',
  "a'\\''b",
];

function echoArgs(shell: string, line: string): string[] {
  // printf prints each argument NUL-terminated, so we see the exact words the remote program would get.
  const out = execFileSync(shell, ['-c', line], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

test('every hostile argument reaches the program as one literal word (sh and bash)', () => {
  for (const shell of ['sh', 'bash']) {
    const line = remoteCommand(['printf', '%s\\0', ...HOSTILE]);
    assert.deepEqual(echoArgs(shell, line), HOSTILE, `through ${shell}`);
  }
});

test('plain words stay bare and everything else is single-quoted', () => {
  assert.equal(quoteArg('/srv/www/site-1/public_html'), '/srv/www/site-1/public_html');
  assert.equal(quoteArg('a b'), "'a b'");
  assert.equal(quoteArg("it's"), "'it'\\''s'");
  assert.equal(quoteArg(''), "''");
});

test('NUL bytes, non-strings and oversized arguments are refused', () => {
  assert.throws(() => quoteArg('a\0b'), /NUL/);
  assert.throws(() => quoteArg(42 as unknown as string), /must be a string/);
  assert.throws(() => quoteArg('x'.repeat(70_000)), /longer/);
});

test('only allow-listed programs, given as the first word, may run', () => {
  assert.throws(() => remoteCommand(['rm', '-rf', '/']), /not allowed/);
  assert.throws(() => remoteCommand(['find; rm -rf /']), /not allowed/);
  assert.throws(() => remoteCommand([]), /non-empty/);
  assert.equal(remoteCommand(['xargs', '-0', 'sha256sum'], ['cat']), 'xargs -0 sha256sum | cat');
});

test('remote paths: absolute, no .., no control characters', () => {
  assert.equal(checkRemotePath('/srv/site/', 'docroot'), '/srv/site');
  assert.equal(checkRemotePath('/srv/my site/ü', 'docroot'), '/srv/my site/ü');
  assert.throws(() => checkRemotePath('srv/site', 'docroot'), /absolute/);
  assert.throws(() => checkRemotePath('/srv/../etc', 'docroot'), /'\.\.'/);
  assert.throws(() => checkRemotePath('/srv/a\nb', 'docroot'), /control/);
});
