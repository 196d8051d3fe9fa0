import { mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ref } from '../columns';
import { accounts } from './accounts';

/** Web domains served for an account (its main domain included), each with its docroot on the node. */
export const domains = mysqlTable(
  'domains',
  {
    id: id(),
    // No ON DELETE CASCADE: the accounts repository deletes children explicitly, so a delete is always deliberate.
    accountId: ref('account_id')
      .notNull()
      .references(() => accounts.id),
    name: varchar('name', { length: 253 }).notNull(),
    docroot: varchar('docroot', { length: 1024 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('domains_name_uq').on(t.name)],
);

export type DomainRow = typeof domains.$inferSelect;
