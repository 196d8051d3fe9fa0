import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sshCredentials, sweepStaleCredentials } from '../../activities/ssh-credentials';

/** Key copies of a SIGKILLed worker are swept; a live process's never are, nor folders we do not own. */

const target = { host: '127.0.0.1', port: 22, user: 'u', privateKey: 'KEY', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` };

test("a dead process's key folder is removed, live ones and foreign entries stay", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-sweep-'));
  try {
    const dead = spawnSync('true').pid!; // exited: its pid is free (reuse within the test is not a concern)
    const mk = (name: string) => {
      const d = path.join(tmp, name);
      fs.mkdirSync(d, { mode: 0o700 });
      fs.writeFileSync(path.join(d, 'id'), 'secret', { mode: 0o600 });
      return d;
    };
    mk(`npanel-ssh-${dead}-aB12cd`);
    mk(`npanel-ssh-${process.pid}-xY34zz`);
    mk(`npanel-ssh-${process.ppid}-live00`);
    const old = mk(`npanel-ssh-${process.ppid}-old000`);
    fs.utimesSync(old, new Date(Date.now() - 7 * 3600_000), new Date(Date.now() - 7 * 3600_000));
    fs.symlinkSync('/etc', path.join(tmp, `npanel-ssh-${dead}-link00`));
    mk('unrelated');
    const removed = sweepStaleCredentials(tmp).sort();
    assert.deepEqual(removed, [`npanel-ssh-${dead}-aB12cd`, `npanel-ssh-${process.ppid}-old000`].sort());
    assert.deepEqual(
      fs.readdirSync(tmp).sort(),
      [`npanel-ssh-${dead}-link00`, `npanel-ssh-${process.pid}-xY34zz`, `npanel-ssh-${process.ppid}-live00`, 'unrelated'].sort(),
    );
    assert.ok(fs.existsSync('/etc/passwd'), 'a planted symlink is not followed');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a run folder is private, named by our pid, and gone after remove()', () => {
  const c = sshCredentials(target, 'ssh-ed25519 AAAA');
  try {
    assert.match(path.basename(c.dir), new RegExp(`^npanel-ssh-${process.pid}-`));
    assert.equal(fs.statSync(c.dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(c.dir, 'id')).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(path.join(c.dir, 'id'), 'utf8'), 'KEY\n');
    assert.ok(!c.sshCommand.includes('KEY'), 'the key is never on the command line');
  } finally {
    c.remove();
  }
  assert.equal(fs.existsSync(c.dir), false);
});
