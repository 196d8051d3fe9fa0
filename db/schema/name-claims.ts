import { index, mysqlEnum, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { CLAIM_KINDS, type ClaimKind } from '../../common/account-names';
import { createdAt, id } from '../columns';

/** Every kind of name an account holds on a node's daemons. */
export const NAME_KINDS = CLAIM_KINDS;
export type NameKind = ClaimKind;

/**
 * Names are owned: each name an account uses is claimed here before any daemon is touched, all of a request's
 * names in one transaction, and the unique key over (kind, name) settles every race. The owner is the account's
 * username, not its row id: a migration claims its names before its child workflow makes the account row.
 * `workflow_id` is the workflow that made the claim, so a compensation releases (and undoes) only what its own
 * workflow claimed, never a name the account or anybody else held before.
 */
export const nameClaims = mysqlTable(
  'name_claims',
  {
    id: id(),
    kind: mysqlEnum('kind', NAME_KINDS).notNull(),
    /** A mailbox is `local@domain` (64 + 1 + 253). */
    name: varchar('name', { length: 320 }).notNull(),
    account: varchar('account', { length: 16 }).notNull(),
    workflowId: varchar('workflow_id', { length: 255 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('name_claims_kind_name_uq').on(t.kind, t.name), index('name_claims_account_idx').on(t.account)],
);

export type NameClaimRow = typeof nameClaims.$inferSelect;
