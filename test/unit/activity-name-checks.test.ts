import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { createFilesActivities } from '../../activities/files';
import { createFtpActivities } from '../../activities/ftp';
import { createMailActivities } from '../../activities/mail';
import { createMysqlActivities } from '../../activities/mysql';
import { databaseNameSchema, databaseUserSchema, mailLocalSchema, usernameSchema } from '../../common/names';

/**
 * The activities apply the API's rule of each name (common/names/), not a looser copy of their own: every value
 * the API schema refuses, or would fold into another name, is refused by the activity as a non-retryable
 * input error before any file, daemon or database is touched. Until issue 12 the mail activities took
 * `info.` and `in..fo`, MariaDB's took `shop` and the login `mariadb_sys`, FTP and the docroot took `root`.
 * The configs point at nothing that exists: a check that let a value through would fail differently.
 */

const nowhere = '/nonexistent/npanel-rules-unit';
const mail = createMailActivities({
  dbDir: nowhere,
  usersDir: nowhere,
  domainsDir: nowhere,
  suspendedDir: nowhere,
  vmailDir: nowhere,
  vmailUid: 1,
  vmailGid: 1,
  authGid: 1,
  doveConf: `${nowhere}/dovecot.conf`,
});
const ftp = createFtpActivities({ passwdFile: `${nowhere}/passwd`, pdbFile: `${nowhere}/pdb`, uid: 1, gid: 1 });
const mysql = createMysqlActivities({ host: '127.0.0.1', port: 1, user: 'nobody', password: 'x' }).activities;
const files = createFilesActivities({ webRoot: nowhere, ownerUid: 1, ownerGid: 1 });

const CANDIDATES = [
  '',
  'info',
  'info.',
  'info-',
  '.info',
  '_info',
  'in..fo',
  'a_b',
  'Info',
  ' info',
  'x'.repeat(17),
  'x'.repeat(33),
  'x'.repeat(64),
  'x'.repeat(65),
  'root',
  'www',
  'ftp',
  'mysql',
  'shop',
  'test',
  'sys',
  'mariadb',
  'mariadb_sys',
  'npanel_admin',
  'information_schema',
  'info\n',
  'in\u200bfo',
  '1abc',
  'a-b',
  'a;b',
  '../x',
];

/** Values the API would not store as they are: refused outright, or folded into another name. */
const notStored = (schema: z.ZodType) =>
  CANDIDATES.filter((v) => {
    const r = schema.safeParse(v);
    return !r.success || r.data !== v;
  });

const invalid = (type: string) => (err: unknown) => err instanceof ApplicationFailure && err.type === type && err.nonRetryable === true;

test('the mail activities refuse every mailbox local part the API refuses or folds', async () => {
  const bad = notStored(mailLocalSchema);
  for (const v of ['info.', 'info-', 'in..fo', '.info']) assert.ok(bad.includes(v), v);
  for (const local of bad) {
    await assert.rejects(
      mail.ensureMailbox({ domain: 'example.test', local, password: 'Secret-pass-1' }),
      invalid('MailInvalidName'),
      JSON.stringify(local),
    );
  }
});

test('the FTP activities and the docroot refuse every username the API refuses or folds, reserved names included', async () => {
  const bad = notStored(usernameSchema);
  for (const v of ['root', 'www', 'ftp']) assert.ok(bad.includes(v), v);
  for (const username of bad) {
    await assert.rejects(
      ftp.ensureFtpUser({ username, password: 'Secret-pass-1', homeDir: '/srv/x' }),
      invalid('FtpInvalidName'),
      JSON.stringify(username),
    );
    await assert.rejects(
      files.ensureDocroot({ account: username, domain: 'example.test' }),
      invalid('InvalidInput'),
      JSON.stringify(username),
    );
  }
});

test('the MariaDB activities refuse every database name and login the API refuses or folds, before any SQL', async () => {
  const badNames = notStored(databaseNameSchema);
  const badUsers = notStored(databaseUserSchema);
  for (const v of ['shop', 'test', 'information_schema']) assert.ok(badNames.includes(v), v);
  for (const v of ['mariadb_sys', 'npanel_admin', 'shop']) assert.ok(badUsers.includes(v), v);
  for (const database of badNames) {
    await assert.rejects(
      mysql.ensureCustomerDatabase({ database, user: 'acct_ok', password: 'Secret-pass-1' }),
      invalid('MysqlInvalidName'),
      JSON.stringify(database),
    );
  }
  for (const user of badUsers) {
    await assert.rejects(
      mysql.ensureCustomerDatabase({ database: 'acct_ok', user, password: 'Secret-pass-1' }),
      invalid('MysqlInvalidName'),
      JSON.stringify(user),
    );
  }
});
