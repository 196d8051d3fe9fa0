import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createMailActivities } from '../../activities/mail';
import { mailLayout, VMAIL_GID, VMAIL_UID } from '../../activities/mail-layout';
import { ImapClient, imapLoginWorks } from '../support/imap';
import { sendMail } from '../support/smtp';
import { loadStack } from '../support/stack';

// The mail activities against node a's real Dovecot and Exim, checked the way a user would: IMAP logins,
// SMTP deliveries read back over IMAP, RCPT refusals.
const { file, home } = loadStack();
const layout = mailLayout({ dir: path.join(home, 'nodes', file.node?.id ?? 'a') });
const mail = createMailActivities({ ...layout, vmailUid: VMAIL_UID, vmailGid: VMAIL_GID, doveConf: layout.dovecotConf });

const run = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
const domain = `mail-${run}.test`;
const alice = { domain, local: 'alice', password: `pw-${crypto.randomBytes(9).toString('base64url')}` };
const bob = { domain, local: 'bob.smith', password: `pw-${crypto.randomBytes(9).toString('base64url')}` };
const aliceAddr = `alice@${domain}`;
const bobAddr = `bob.smith@${domain}`;

after(async () => {
  await mail.removeMailDomain({ domain }).catch(() => undefined);
});

/** Polls IMAP until a message with `subject` is in the INBOX; returns its raw text. */
async function waitForMessage(user: string, password: string, subject: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const imap = await ImapClient.connect(file.imap);
    try {
      assert.ok(await imap.login(user, password), `login of ${user} while waiting for mail`);
      await imap.select('INBOX');
      const found = await imap.search(`SUBJECT "${subject}"`);
      if (found.length > 0) return await imap.fetchMessage(found[0]!);
    } finally {
      await imap.logout().catch(() => imap.close());
    }
    if (Date.now() > deadline) throw new Error(`no message "${subject}" for ${user} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a new mailbox logs in at once, even in the same second as a failed lookup of it', async (t) => {
  assert.deepEqual(await mail.ensureMailDomain({ domain }), { domain, created: true });
  // Start at the top of a second so the failed lookup, the creation and the login share one clock second:
  // a store cached per second (passwd-file) would still answer "unknown user" to the login below.
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
  const lookupAt = Date.now();
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, alice.password), false, 'no mailbox yet');
  const created = await mail.ensureMailbox(alice);
  assert.deepEqual(created, { address: aliceAddr, created: true, changed: true });
  const loginAt = Date.now();
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, alice.password), true, 'first login right after creation');
  t.diagnostic(`failed lookup -> successful login: ${Date.now() - lookupAt} ms, creation -> login: ${Date.now() - loginAt} ms`);
  const maildir = path.join(layout.vmailDir, domain, 'alice', 'Maildir');
  assert.equal(fs.statSync(maildir).uid, VMAIL_UID);
  assert.equal(fs.statSync(path.join(maildir, 'new')).uid, VMAIL_UID);
});

test('a wrong password and an unknown mailbox are refused', async () => {
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, 'not-the-password'), false);
  assert.equal(await imapLoginWorks(file.imap, `nobody@${domain}`, alice.password), false);
});

test('mail sent over SMTP arrives and is read over IMAP; unknown recipients are refused at RCPT', async () => {
  const subject = `hello ${run}`;
  const token = crypto.randomBytes(8).toString('hex');
  const sent = await sendMail({
    port: file.smtp,
    from: 'sender@outside.npanel.test',
    to: [aliceAddr, `nobody@${domain}`],
    subject,
    body: `token ${token}\n`,
  });
  assert.equal(sent.rcpt[0]!.code, 250, `RCPT alice: ${sent.rcpt[0]!.text}`);
  assert.equal(sent.rcpt[1]!.code, 550, 'unknown local part refused at RCPT');
  assert.equal(sent.data?.code, 250);
  const message = await waitForMessage(aliceAddr, alice.password, subject);
  assert.match(message, new RegExp(`token ${token}`));
});

test('ensureMailDomain and ensureMailbox twice change nothing; a new password replaces the old one', async () => {
  assert.deepEqual(await mail.ensureMailDomain({ domain }), { domain, created: false });
  assert.deepEqual(await mail.ensureMailbox(alice), { address: aliceAddr, created: false, changed: false });
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, alice.password), true);

  const newPassword = `${alice.password}-2`;
  assert.deepEqual(await mail.ensureMailbox({ ...alice, password: newPassword }), { address: aliceAddr, created: false, changed: true });
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, newPassword), true, 'new password at once');
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, alice.password), false, 'old password refused');
  alice.password = newPassword;
});

test('suspending the domain refuses logins, unsuspending restores them with the same password', async () => {
  await mail.ensureMailbox(bob);
  assert.equal(await imapLoginWorks(file.imap, bobAddr, bob.password), true);
  const open = await ImapClient.connect(file.imap);
  assert.ok(await open.login(aliceAddr, alice.password));
  await open.select('INBOX');
  assert.deepEqual(await mail.setMailDomainSuspended({ domain, suspended: true }), { domain, suspended: true, changed: true });
  // A session opened before the suspension must not go on reading mail: the server ends it (BYE + close).
  // Dovecot handles the kick signal in its event loop, so a NOOP sent at that very moment may still pass.
  await assert.rejects(async () => {
    for (const until = Date.now() + 2000; Date.now() < until;) {
      await open.command('NOOP');
      await new Promise((r) => setTimeout(r, 50));
    }
  }, /closed|ended|ECONNRESET|EPIPE/);
  open.close();
  assert.deepEqual(await mail.setMailDomainSuspended({ domain, suspended: true }), { domain, suspended: true, changed: false });
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, alice.password), false, 'alice suspended');
  assert.equal(await imapLoginWorks(file.imap, bobAddr, bob.password), false, 'bob suspended');

  assert.deepEqual(await mail.setMailDomainSuspended({ domain, suspended: false }), { domain, suspended: false, changed: true });
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, alice.password), true, 'alice restored');
  assert.equal(await imapLoginWorks(file.imap, bobAddr, bob.password), true, 'bob restored');
});

test('removeMailbox: login fails, mail to it is refused, its maildir is gone', async () => {
  assert.deepEqual(await mail.removeMailbox({ domain, local: 'bob.smith' }), { address: bobAddr, removed: true });
  assert.deepEqual(await mail.removeMailbox({ domain, local: 'bob.smith' }), { address: bobAddr, removed: false });
  assert.equal(await imapLoginWorks(file.imap, bobAddr, bob.password), false);
  assert.equal(fs.existsSync(path.join(layout.vmailDir, domain, 'bob.smith')), false);
  const sent = await sendMail({ port: file.smtp, from: 'sender@outside.npanel.test', to: [bobAddr], subject: 'gone', body: 'x' });
  assert.equal(sent.rcpt[0]!.code, 550);
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, alice.password), true, 'alice untouched');
});

test('removeMailDomain removes its mailboxes, their mail and the domain itself', async () => {
  const removed = await mail.removeMailDomain({ domain });
  assert.deepEqual(removed, { domain, removed: true, mailboxesRemoved: 1 });
  assert.equal(await imapLoginWorks(file.imap, aliceAddr, alice.password), false);
  assert.equal(fs.existsSync(path.join(layout.vmailDir, domain)), false);
  const sent = await sendMail({ port: file.smtp, from: 'sender@outside.npanel.test', to: [aliceAddr], subject: 'gone', body: 'x' });
  assert.equal(sent.rcpt[0]!.code, 550);
  assert.deepEqual(await mail.removeMailDomain({ domain }), { domain, removed: false, mailboxesRemoved: 0 });
  await assert.rejects(mail.ensureMailbox(alice), (err: unknown) => err instanceof ApplicationFailure && err.type === 'MailDomainNotFound');
});

test('invalid names are refused before any file is touched', async () => {
  const invalid = (err: unknown) => err instanceof ApplicationFailure && err.type === 'MailInvalidName' && err.nonRetryable;
  for (const bad of ['Example.com', '../etc', 'a..b', 'nodot', '-x.com', 'x_y.com', 'a.com/b']) {
    await assert.rejects(mail.ensureMailDomain({ domain: bad }), invalid, bad);
  }
  for (const bad of ['', '.alice', 'Alice', 'a/b', 'a@b', '../x', 'a b', 'x'.repeat(65)]) {
    await assert.rejects(mail.ensureMailbox({ domain, local: bad, password: 'x' }), invalid, JSON.stringify(bad));
  }
  await assert.rejects(mail.setMailDomainSuspended({ domain: '*', suspended: true }), invalid);
});
