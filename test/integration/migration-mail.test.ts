import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ImapClient } from '../support/imap';
import { loadStack } from '../support/stack';
import { adminApi, finished, migrationBody, rand } from './migration-helpers';

/**
 * Mail of a migrated site: the sample source's maildirs become mailboxes on the target, and a real IMAP
 * client logs in with the password the admin gave (one mailbox) or the one generated and returned in the
 * result (the other), and finds every message byte for byte, read ones \Seen, new ones unseen.
 */

const stack = loadStack();
const api = adminApi(stack);

/** The source's messages: file content by Message-ID, and whether the file sits in cur/ (read). */
function sourceMessages(maildir: string): { id: string; text: string; seen: boolean }[] {
  return ['cur', 'new'].flatMap((sub) =>
    fs.readdirSync(path.join(maildir, sub)).map((name) => {
      const text = fs.readFileSync(path.join(maildir, sub, name), 'utf8');
      return { id: /^Message-ID: (<[^>]+>)/m.exec(text)![1]!, text, seen: sub === 'cur' && /:2,.*S/.test(name) };
    }),
  );
}

test(
  'maildirs migrate: IMAP login with the given and the generated password finds every message, flags kept',
  { timeout: 240_000 },
  async () => {
    const sources = stack.file.migrationSource.mailboxes;
    assert.ok(sources && sources.length >= 2, 'stack.json lists the sample mailboxes');
    const account = `e${rand()}`;
    const domain = `${account}.test`;
    const given = `Mail-${rand()}-pw!`;
    const [first, second] = sources;
    const body = migrationBody(stack, { account, domain, mailboxes: [{ ...first!, password: given }, { ...second! }] });
    const res = await api('/api/v1/migrations', { method: 'POST', body });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const w = await finished(api, res.body.workflowId);
    assert.equal(w.status, 'completed', JSON.stringify(w.error ?? w.progress?.errors));
    assert.deepEqual(w.result.mailboxes, [`${first!.local}@${domain}`, `${second!.local}@${domain}`]);
    // Only the generated password comes back; the given one is never echoed.
    assert.deepEqual(
      w.result.mailboxPasswords.map((p: { mailbox: string }) => p.mailbox),
      [`${second!.local}@${domain}`],
    );
    assert.ok(!JSON.stringify(w).includes(given), 'the given password is not in the workflow view');
    const generated = w.result.mailboxPasswords[0].password as string;

    for (const [m, password] of [
      [first!, given],
      [second!, generated],
    ] as const) {
      const expected = sourceMessages(m.maildir);
      assert.ok(expected.length >= 2, `sample ${m.local} has messages`);
      const imap = await ImapClient.connect(stack.file.imap);
      try {
        assert.equal(await imap.login(`${m.local}@${domain}`, `${password}x`), false, 'a wrong password is refused');
        assert.equal(await imap.login(`${m.local}@${domain}`, password), true, `login ${m.local}`);
        assert.equal((await imap.select('INBOX')).exists, expected.length);
        for (const e of expected) {
          const [seq] = await imap.search(`HEADER Message-ID "${e.id}"`);
          assert.ok(seq, `${e.id} is in ${m.local}'s INBOX`);
          assert.equal(await imap.fetchMessage(seq!), e.text);
        }
        assert.equal((await imap.search('SEEN')).length, expected.filter((e) => e.seen).length, 'read messages stay read');
        assert.equal((await imap.search('UNSEEN')).length, expected.filter((e) => !e.seen).length);
      } finally {
        await imap.logout().catch(() => imap.close());
      }
    }
    // Mail on the target is the vmail user's alone (the source's 0600 is not widened to a docroot's 0644).
    for (const m of [first!, second!]) {
      const maildir = path.join(stack.home, 'nodes', 'a', 'mail', 'vmail', domain, m.local, 'Maildir');
      const names = ['cur', 'new'].flatMap((sub) => fs.readdirSync(path.join(maildir, sub)).map((n) => path.join(maildir, sub, n)));
      assert.ok(names.length > 0, `message files of ${m.local} on the target`);
      for (const f of [maildir, ...names]) assert.equal(fs.statSync(f).mode & 0o077, 0, `${f} is private`);
    }
  },
);
