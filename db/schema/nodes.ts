import { mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, ts } from '../columns';

/** Hosting nodes. The id is short and human ('a', 'b'): it is part of the node's task queue name. */
export const nodes = mysqlTable('nodes', {
  id: varchar('id', { length: 32 }).primaryKey(),
  ip: varchar('ip', { length: 45 }).notNull(),
  taskQueue: varchar('task_queue', { length: 255 }).notNull(),
  createdAt: createdAt(),
  /** Set by the node's worker when it (re)starts; null until it has checked in once. */
  lastSeenAt: ts('last_seen_at'),
});

export type NodeRow = typeof nodes.$inferSelect;
