import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrateSiteBody } from '../../common/migration-input';

/** The mailbox part of a migration body: passwords optional but never weak, locals unique. */

const body = (mailboxes: unknown[]) => ({
  domain: 'shop.test',
  account: 'shop1',
  source: {
    host: '127.0.0.1',
    user: 'src',
    password: 'x',
    hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
    docroot: '/srv/www',
    ip: '192.0.2.1',
    mailboxes,
  },
});
const issues = (b: unknown) => {
  const r = migrateSiteBody.safeParse(b);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('a mailbox password is optional; given, it must be strong and not contain the account or domain', () => {
  assert.deepEqual(
    issues(
      body([
        { local: 'info', maildir: '/home/u/Maildir' },
        { local: 'sales', maildir: '/home/s/Maildir', password: 'Str0ng-Pass!' },
      ]),
    ),
    [],
  );
  assert.match(issues(body([{ local: 'info', maildir: '/m', password: 'short' }])).join('\n'), /^source\.mailboxes\.0\.password: /);
  assert.match(
    issues(body([{ local: 'info', maildir: '/m', password: 'x-shop1-Secret9' }])).join('\n'),
    /source\.mailboxes\.0\.password: .*account or domain/,
  );
  assert.match(
    issues(
      body([
        { local: 'info', maildir: '/a' },
        { local: 'INFO', maildir: '/b' },
      ]),
    ).join('\n'),
    /source\.mailboxes\.1\.local: duplicate mailbox info/,
  );
  assert.match(issues(body([{ local: 'info', maildir: '/a/../etc' }])).join('\n'), /source\.mailboxes\.0\.maildir: /);
});
