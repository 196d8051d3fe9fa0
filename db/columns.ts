import { bigint, customType, timestamp } from 'drizzle-orm/mysql-core';
import { sql } from 'drizzle-orm';

/**
 * Column helpers shared by the tables in ./schema. Kept outside ./schema so drizzle-kit only sees tables there.
 */

/**
 * Surrogate key. Not drizzle's `serial`: in MariaDB `SERIAL` means `BIGINT UNSIGNED ... UNIQUE`, which adds a
 * second unique index beside the primary key on every table.
 */
export const id = () => bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey();

/** A reference to another table's `id` (same type as `id()`, or MariaDB refuses the foreign key). */
export const ref = (name: string) => bigint(name, { mode: 'number', unsigned: true });

/**
 * Millisecond timestamps. Drizzle writes and reads them as UTC strings, so every connection must run with
 * `time_zone = '+00:00'` (db/client.ts sets it); the default uses CURRENT_TIMESTAMP(3) so a row inserted by
 * hand or by raw SQL still gets milliseconds.
 */
export const ts = (name: string) => timestamp(name, { mode: 'date', fsp: 3 });
export const createdAt = () =>
  ts('created_at')
    .notNull()
    .default(sql`CURRENT_TIMESTAMP(3)`);
/** drizzle-kit emits `ON UPDATE CURRENT_TIMESTAMP`; MariaDB widens it to (3) for a timestamp(3) column. */
export const updatedAt = () =>
  ts('updated_at')
    .notNull()
    .default(sql`CURRENT_TIMESTAMP(3)`)
    .onUpdateNow();

/**
 * JSON that reads back as a value on MariaDB. There `JSON` is an alias of LONGTEXT + CHECK(json_valid()), so
 * mysql2 hands back a string and drizzle's own `json()` (which only stringifies on write) would return text.
 */
export const jsonValue = customType<{ data: unknown; driverData: string }>({
  dataType: () => 'json',
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => (typeof value === 'string' ? JSON.parse(value) : value),
});
