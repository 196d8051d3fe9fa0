import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import {
  databaseNameSchema,
  databaseUserSchema,
  domainNameSchema,
  domainSchema,
  foldDomain,
  hostKeyFingerprintSchema,
  isDatabaseName,
  isDatabaseUser,
  isDomainName,
  isHostKeyFingerprint,
  isMailLocal,
  isSourceDatabase,
  isSshHost,
  isSshUser,
  isUsername,
  mailLocalSchema,
  nodeIdSchema,
  sourceDatabaseSchema,
  sshHostSchema,
  sshUserSchema,
  targetDatabaseName,
  usernameSchema,
  zoneName,
} from '../../common/names';

/**
 * The one module of names (issue 12): each rule once, as a zod schema for what the API receives and a check of
 * the stored form for activities. For every rule: what it accepts, what it refuses (hidden characters, length
 * limits, metacharacters), and that the API schema and the activities' check answer the same on stored forms.
 */

/** Strings no name may be, whatever the rule: each would break out of a path, a config token or a command. */
const HOSTILE = [
  '',
  ' ',
  'a b',
  'a;b',
  'a/b',
  '../x',
  'a\nb',
  'a\tb',
  'a\u0000b',
  'a\u007fb',
  'a\u00adb',
  'a\u200bb',
  'a\u2028b',
  '$(id)',
  '`id`',
  "a'b",
  'a"b',
  'a*b',
];

/** `folded`: refused in stored form, but what a user may type: the API folds it into another, valid name. */
function check(name: string, schema: z.ZodType, is: (v: unknown) => boolean, good: string[], bad: string[], folded: string[] = []) {
  for (const v of good) {
    assert.equal(is(v), true, `${name} accepts ${JSON.stringify(v)}`);
    assert.equal(schema.safeParse(v).success, true, `${name} schema accepts ${JSON.stringify(v)}`);
    assert.equal(schema.parse(v), v, `${name}: a stored form parses to itself`);
  }
  for (const v of [...bad, ...HOSTILE]) {
    assert.equal(is(v), false, `${name} refuses ${JSON.stringify(v)}`);
    assert.equal(schema.safeParse(v).success, false, `${name} schema refuses ${JSON.stringify(v)}`);
  }
  for (const v of folded) {
    assert.equal(is(v), false, `${name} refuses ${JSON.stringify(v)} in stored form`);
    assert.notEqual(schema.parse(v), v, `${name} schema folds ${JSON.stringify(v)}`);
  }
  for (const v of [undefined, null, 7, {}, ['alice']]) assert.equal(is(v), false, `${name} refuses ${JSON.stringify(v)}`);
}

test('domain: LDH labels of 1-63, 3-253 characters, no numeric last label, valid punycode only', () => {
  const good = [
    'example.test',
    'a.io',
    'xn--bcher-kva.test',
    'www.xn--bcher-kva.test',
    `${'a'.repeat(63)}.test`,
    'a-b.c-d.test',
    `${'a.'.repeat(124)}test`,
  ];
  const bad = [
    'x',
    'a.',
    'localhost',
    'Example.test',
    'example.test.',
    '-x.test',
    'x-.test',
    'a..b',
    'x_y.test',
    '1.2.3.4',
    'example.123',
    `${'a'.repeat(64)}.test`,
    `${'a.'.repeat(125)}test`,
    'xn--a.test',
    'example.xn--a',
    'xn--zz.test',
    'ex\nample.test',
    'ex\u00adample.test',
    'bücher.test',
  ];
  check('domain', domainNameSchema, isDomainName, good, bad);
  const typed = ['Example.test', 'example.test.', 'bücher.test'];
  check(
    'domain (API)',
    domainSchema,
    isDomainName,
    good,
    bad.filter((d) => !typed.includes(d)),
    typed,
  );
  // What a user types is folded into the stored form by the API; hidden characters are refused, never dropped.
  assert.equal(domainSchema.parse(' Example.TEST. '), 'example.test');
  assert.equal(domainSchema.parse('Bücher.test'), 'xn--bcher-kva.test');
  assert.equal(domainSchema.safeParse('x'.repeat(301)).success, false);
  assert.equal(foldDomain(' Example.TEST. '), 'example.test');
  assert.equal(foldDomain('ex\nample.test '), 'ex\nample.test ');
  assert.equal(zoneName('example.test'), 'example.test.');
});

test('username: 1-16 lowercase letters and digits starting with a letter, reserved names refused', () => {
  check(
    'username',
    usernameSchema,
    isUsername,
    ['a', 'alice', 'shop1', 'a'.repeat(16), 'test', 'shop'],
    ['a'.repeat(17), '1abc', 'x_y', 'x-y', 'x.y', 'root', 'www', 'mysql', 'npanel', 'postmaster', 'ftp'],
    ['Alice', ' alice'],
  );
  assert.equal(usernameSchema.parse(' Alice '), 'alice');
  assert.equal(usernameSchema.safeParse('alice\n').success, false);
});

test('mailbox local part: 1-64 of a-z 0-9 . _ -, letter or digit at both ends, no ".."', () => {
  const good = ['info', 'a', '1', 'bob.smith', 'sales-team', 'a_b', 'x'.repeat(64), 'a.b.c'];
  const bad = ['x'.repeat(65), '.info', 'info.', 'info-', '_info', 'in..fo', 'a@b', 'a+b', 'ä'];
  check('mail local', mailLocalSchema, isMailLocal, good, bad, ['Info', 'info ']);
  assert.equal(mailLocalSchema.parse(' INFO '), 'info');
});

test('database name and login: 1-32 of a-z 0-9 _ starting with a letter; reserved databases and logins refused', () => {
  const good = ['shopdb', 'a', 'acct_wp', 'a'.repeat(32), 'x1_2'];
  const bad = [
    'a'.repeat(33),
    '1db',
    '_db',
    'a-b',
    'a.b',
    'mysql',
    'information_schema',
    'performance_schema',
    'sys',
    'npanel',
    'test',
    'shop',
  ];
  check('database', databaseNameSchema, isDatabaseName, good, bad, ['Shop1']);
  check(
    'database user',
    databaseUserSchema,
    isDatabaseUser,
    good,
    [...bad, 'root', 'mariadb', 'npanel_admin', 'debian_sys_maint', 'mariadb_sys'],
    ['Shop1'],
  );
  // A login that is a database name is still a database name: `root` is a fine database, not a login.
  assert.equal(isDatabaseName('root'), true);
  assert.equal(isDatabaseUser('root'), false);
});

test('source database: as the source names it (case kept, 1-64 identifier characters); its target is account-prefixed', () => {
  check(
    'source database',
    sourceDatabaseSchema,
    isSourceDatabase,
    ['shop', 'Shop_1', '1db', 'x'.repeat(64)],
    ['x'.repeat(65), 'a-b', 'a.b', 'a$b'],
  );
  assert.equal(targetDatabaseName('acct', 'Shop_1'), 'acct_shop_1');
  assert.equal(isDatabaseName(targetDatabaseName('information', 'schema')), false);
});

test('SSH host, user and host key fingerprint of a migration source', () => {
  check(
    'ssh host',
    sshHostSchema,
    isSshHost,
    ['127.0.0.1', 'localhost', 'Src-1.Example.com', 'h'.repeat(63)],
    ['h'.repeat(64), '-x', 'x-', 'a_b', 'a..b', '.a', 'a.', '[::1]', 'a:22', 'user@host'],
  );
  check(
    'ssh user',
    sshUserSchema,
    isSshUser,
    ['src', '_x', 'u.ser', 'a-b', 'x'.repeat(32)],
    ['x'.repeat(33), 'Root', '1x', '-x', '.x', 'a@b'],
  );
  const fp = `SHA256:${'A1+/'.repeat(10)}abc`;
  check(
    'fingerprint',
    hostKeyFingerprintSchema,
    isHostKeyFingerprint,
    [fp],
    [`${fp}=`, fp.slice(0, -1), `MD5:${'a'.repeat(43)}`, `sha256:${'A'.repeat(43)}`, `SHA256:${'A'.repeat(42)}-`],
  );
});

test('node id: 1-32 lowercase letters and digits', () => {
  const is = (v: unknown) => nodeIdSchema.safeParse(v).success;
  check('node id', nodeIdSchema, is, ['a', 'node1', '1', 'n'.repeat(32)], ['n'.repeat(33), 'Node', 'node-1', 'node_1']);
});
