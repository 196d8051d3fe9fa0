import { mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ref } from '../columns';
import { accounts } from './accounts';

/** MariaDB databases made for customers (not the inventory itself). Passwords are never stored here. */
export const customerDatabases = mysqlTable(
  'customer_databases',
  {
    id: id(),
    accountId: ref('account_id')
      .notNull()
      .references(() => accounts.id),
    /** MariaDB limits database names to 64 characters and user names to 80. */
    name: varchar('name', { length: 64 }).notNull(),
    dbUser: varchar('db_user', { length: 80 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('customer_databases_name_uq').on(t.name)],
);

export type CustomerDatabaseRow = typeof customerDatabases.$inferSelect;
