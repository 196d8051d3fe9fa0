import { mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ref } from '../columns';
import { accounts } from './accounts';

export const mailboxes = mysqlTable(
  'mailboxes',
  {
    id: id(),
    accountId: ref('account_id')
      .notNull()
      .references(() => accounts.id),
    /** local@domain: 64 + 1 + 253. */
    address: varchar('address', { length: 320 }).notNull(),
    /** SHA512-crypt (`$6$...`), the format Dovecot reads; the repository refuses anything else. */
    passwordHash: varchar('password_hash', { length: 255 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('mailboxes_address_uq').on(t.address)],
);

export type MailboxRow = typeof mailboxes.$inferSelect;
