import { mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ref } from '../columns';
import { accounts } from './accounts';

export const ftpUsers = mysqlTable(
  'ftp_users',
  {
    id: id(),
    accountId: ref('account_id')
      .notNull()
      .references(() => accounts.id),
    username: varchar('username', { length: 64 }).notNull(),
    homeDir: varchar('home_dir', { length: 1024 }).notNull(),
    /** SHA512-crypt (`$6$...`): Pure-FTPd checks it in ~17 ms where its default argon2id costs seconds. */
    passwordHash: varchar('password_hash', { length: 255 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('ftp_users_username_uq').on(t.username)],
);

export type FtpUserRow = typeof ftpUsers.$inferSelect;
