import { z } from 'zod';
import { publishedRefusal, typedName } from './characters';

/**
 * The one rule for customer databases and their logins on MariaDB, and for the names a migration source
 * calls its databases. Pure (no Node modules): migrateSite derives target names with `targetDatabaseName`.
 */
export const DATABASE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const DATABASE_NAME_RULE = 'must be 1-32 of a-z 0-9 _, starting with a letter';

/** The server's own databases, NPanel's inventory and the catalogs: no dump may name one either (sql-dump-guard). */
export const SYSTEM_DATABASES = new Set(['mysql', 'npanel', 'information_schema', 'performance_schema', 'sys']);
/** Databases a customer may not take: the system ones, `test`, and `shop`, the sample migration source's database on the stack's server. */
export const RESERVED_DATABASES = new Set([...SYSTEM_DATABASES, 'test', 'shop']);
/** MariaDB logins a customer may not take: the server's own and NPanel's. */
export const RESERVED_DATABASE_USERS = new Set(['root', 'mysql', 'mariadb', 'npanel', 'npanel_admin', 'debian_sys_maint', 'mariadb_sys']);

export const databaseNameSchema = typedName()
  .regex(DATABASE_NAME_PATTERN, DATABASE_NAME_RULE)
  .refine((v) => !RESERVED_DATABASES.has(v), 'is a reserved name')
  .meta(publishedRefusal(RESERVED_DATABASES));

/** A login follows the database rule (it defaults to the database's name) and must not be a reserved login. */
export const databaseUserSchema = databaseNameSchema
  .refine((v) => !RESERVED_DATABASE_USERS.has(v), 'is a reserved name')
  .meta(publishedRefusal(new Set([...RESERVED_DATABASES, ...RESERVED_DATABASE_USERS])));

/** A database name in its stored form (what activities receive): the same rule, nothing folded. */
export function isDatabaseName(value: unknown): value is string {
  return typeof value === 'string' && DATABASE_NAME_PATTERN.test(value) && !RESERVED_DATABASES.has(value);
}

export function isDatabaseUser(value: unknown): value is string {
  return isDatabaseName(value) && !RESERVED_DATABASE_USERS.has(value);
}

/** A database as a migration source names it: MariaDB's unquoted identifier characters, case kept. */
export const SOURCE_DATABASE_PATTERN = /^[A-Za-z0-9_]{1,64}$/;
export const sourceDatabaseSchema = z.string().regex(SOURCE_DATABASE_PATTERN, 'must be a database name of letters, digits and _');

export function isSourceDatabase(value: unknown): value is string {
  return typeof value === 'string' && SOURCE_DATABASE_PATTERN.test(value);
}

/** Target databases are prefixed with the account (cPanel's habit): two sites' `wordpress` never collide. */
export function targetDatabaseName(account: string, source: string): string {
  return `${account}_${source.toLowerCase()}`;
}
