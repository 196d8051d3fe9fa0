import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createFtpActivities } from '../../activities/ftp';
import { ftpLayout } from '../../stack/services/pureftpd';
import { loadStack } from '../support/stack';

const execFileP = promisify(execFile);
const stack = loadStack();
const port = stack.file.ftp;
const layout = ftpLayout({ dir: path.join(stack.home, 'nodes', stack.file.node?.id ?? 'a') });
const ftp = createFtpActivities({ passwdFile: layout.passwdFile, pdbFile: layout.pdbFile, uid: 2000, gid: 2000 });

const run = crypto.randomBytes(3).toString('hex');
const made = new Set<string>();
const userName = (tag: string) => {
  const name = `t${tag}${run}`; // ^[a-z][a-z0-9]{0,15}$
  made.add(name);
  return name;
};
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-ftp-test-'));
const webRoot = path.join(stack.home, 'nodes', 'a', 'ftp-test', run);

/** A docroot as the files activities make it: `<webRoot>/<account>/<domain>/public_html`, owned 2000:2000. */
function makeDocroot(account: string): string {
  const dir = path.join(webRoot, account, 'example.test', 'public_html');
  fs.mkdirSync(dir, { recursive: true });
  for (let d = dir; d !== path.dirname(webRoot); d = path.dirname(d)) fs.chownSync(d, 2000, 2000);
  return dir;
}

/** curl with credentials in a netrc file, so the password is not in argv. Resolves true on success, false on 530. */
async function curl(user: string, password: string, args: string[], url = `ftp://127.0.0.1:${port}/`): Promise<boolean> {
  const netrc = path.join(scratch, `netrc-${crypto.randomBytes(4).toString('hex')}`);
  // Quoted (curl >= 7.84), so a password with a space stays one token.
  const quoted = `"${password.replace(/["\\]/g, '\\$&')}"`;
  fs.writeFileSync(netrc, `machine 127.0.0.1 login ${user} password ${quoted}\n`, { mode: 0o600 });
  try {
    await execFileP('curl', ['-sS', '--max-time', '30', '--netrc-file', netrc, ...args, url]);
    return true;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    if (/530|Access denied|Login denied/.test(stderr)) return false;
    throw err;
  } finally {
    fs.rmSync(netrc, { force: true });
  }
}

const canLogin = (user: string, password: string) => curl(user, password, ['--list-only']);

after(async () => {
  for (const username of made) await ftp.removeFtpUser({ username });
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.rmSync(webRoot, { recursive: true, force: true });
});

test('invalid names and homes are refused as non-retryable input errors', async () => {
  await assert.rejects(ftp.ensureFtpUser({ username: 'Bad-Name', password: 'x', homeDir: '/srv' }), {
    type: 'FtpInvalidName',
    nonRetryable: true,
  });
  await assert.rejects(ftp.ensureFtpUser({ username: 'a'.repeat(17), password: 'x', homeDir: '/srv' }), { type: 'FtpInvalidName' });
  await assert.rejects(ftp.removeFtpUser({ username: '../etc' }), { type: 'FtpInvalidName' });
  await assert.rejects(ftp.ensureFtpUser({ username: userName('x'), password: 'x', homeDir: 'relative/dir' }), { type: 'FtpInvalidHome' });
  await assert.rejects(ftp.ensureFtpUser({ username: userName('x'), password: 'x', homeDir: '/srv/../etc' }), { type: 'FtpInvalidHome' });
});

// Each refused login costs Pure-FTPd's failure delay (~3-6 s): the cases use their own users and run together.
describe('FTP users seen through a real FTP client', { concurrency: true }, () => {
  test('a new user logs in, uploads into its docroot; a wrong password is refused; twice = once', async () => {
    const user = userName('up');
    const password = `pw ${crypto.randomBytes(6).toString('base64url')}`;
    const docroot = makeDocroot(user);
    const first = await ftp.ensureFtpUser({ username: user, password, homeDir: docroot });
    assert.equal(first.created, true);
    const passwdBefore = fs.readFileSync(layout.passwdFile, 'utf8');
    const again = await ftp.ensureFtpUser({ username: user, password, homeDir: docroot });
    assert.deepEqual([again.created, again.changed], [false, false]);
    assert.equal(passwdBefore.split('\n').filter((l) => l.startsWith(`${user}:`)).length, 1);

    const local = path.join(scratch, `upload-${user}.txt`);
    fs.writeFileSync(local, `hello from ${user}\n`);
    assert.equal(await curl(user, password, ['-T', local], `ftp://127.0.0.1:${port}/index.txt`), true);
    const landed = path.join(docroot, 'index.txt');
    assert.equal(fs.readFileSync(landed, 'utf8'), `hello from ${user}\n`);
    assert.equal(fs.statSync(landed).uid, 2000);

    assert.equal(await canLogin(user, 'wrong password'), false);
  });

  test('a new password replaces the old one', async () => {
    const user = userName('pw');
    const docroot = makeDocroot(user);
    await ftp.ensureFtpUser({ username: user, password: 'first-pass', homeDir: docroot });
    const changed = await ftp.ensureFtpUser({ username: user, password: 'second-pass', homeDir: docroot });
    assert.equal(changed.changed, true);
    assert.equal(await canLogin(user, 'second-pass'), true);
    assert.equal(await canLogin(user, 'first-pass'), false);
  });

  test('suspend refuses the login, unsuspend restores the same password', async () => {
    const user = userName('su');
    const docroot = makeDocroot(user);
    await ftp.ensureFtpUser({ username: user, password: 'keep-me', homeDir: docroot });
    assert.equal(await canLogin(user, 'keep-me'), true);
    assert.equal((await ftp.setFtpUserSuspended({ username: user, suspended: true })).changed, true);
    assert.equal((await ftp.setFtpUserSuspended({ username: user, suspended: true })).changed, false);
    assert.equal(await canLogin(user, 'keep-me'), false);
    await ftp.setFtpUserSuspended({ username: user, suspended: false });
    assert.equal(await canLogin(user, 'keep-me'), true);
  });

  test('remove refuses the login and is idempotent', async () => {
    const user = userName('rm');
    const docroot = makeDocroot(user);
    await ftp.ensureFtpUser({ username: user, password: 'bye-bye', homeDir: docroot });
    assert.equal(await canLogin(user, 'bye-bye'), true);
    assert.deepEqual(await ftp.removeFtpUser({ username: user }), { username: user, removed: true });
    assert.deepEqual(await ftp.removeFtpUser({ username: user }), { username: user, removed: false });
    assert.equal(await canLogin(user, 'bye-bye'), false);
    assert.equal((await ftp.setFtpUserSuspended({ username: user, suspended: true })).found, false);
  });
});
