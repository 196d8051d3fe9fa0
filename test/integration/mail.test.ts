import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImapClient } from '../support/imap';
import { SmtpClient } from '../support/smtp';
import { loadStack } from '../support/stack';

// What a mail client or a sending server sees first: the three listeners of node a answer their protocol.
const { file } = loadStack();

test('IMAP greets and offers plaintext LOGIN on loopback', async () => {
  const imap = await ImapClient.connect(file.imap);
  try {
    assert.match(imap.greeting, /^\* OK /);
    const caps = await imap.command('CAPABILITY');
    assert.equal(caps.status, 'OK');
    const line = caps.untagged.find((l) => l.startsWith('* CAPABILITY')) ?? '';
    assert.match(line, /\bIMAP4rev1\b/);
    // Loopback counts as secure for Dovecot: LOGIN must not be disabled (LOGINDISABLED) there.
    assert.doesNotMatch(line, /LOGINDISABLED/);
  } finally {
    await imap.logout();
  }
});

test('LMTP greets and answers LHLO', async () => {
  const lmtp = await SmtpClient.connect(file.lmtp);
  try {
    assert.equal(lmtp.greeting.code, 220);
    // LHLO is LMTP's own greeting command: an SMTP server would refuse it.
    const lhlo = await lmtp.command('LHLO client.npanel.test');
    assert.equal(lhlo.code, 250);
    assert.match(lhlo.text, /PIPELINING/);
  } finally {
    await lmtp.quit();
  }
});

test('SMTP greets, answers EHLO and refuses to relay', async () => {
  const smtp = await SmtpClient.connect(file.smtp);
  try {
    assert.equal(smtp.greeting.code, 220);
    assert.match(smtp.greeting.text, /ESMTP/);
    assert.equal((await smtp.command('EHLO client.npanel.test')).code, 250);
    assert.equal((await smtp.mailFrom('someone@sender.npanel.test')).code, 250);
    // Not a domain of this node: an open relay would say 250 here.
    const rcpt = await smtp.rcptTo('victim@elsewhere.example');
    assert.equal(rcpt.code, 550);
  } finally {
    await smtp.quit();
  }
});
