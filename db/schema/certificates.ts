import { datetime, index, mysqlEnum, mysqlTable, text, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ref, ts, updatedAt } from '../columns';
import { accounts } from './accounts';

export const CERTIFICATE_OUTCOMES = ['issued', 'renewed', 'failed', 'rolled_back'] as const;
export type CertificateOutcome = (typeof CERTIFICATE_OUTCOMES)[number];

/**
 * One row per domain with a certificate (or a failed first attempt at one: then serial and paths are null).
 * not_before/not_after are DATETIME, not TIMESTAMP: MariaDB 10.11's TIMESTAMP ends in January 2038, and a
 * certificate imported from elsewhere may well outlive that.
 */
export const certificates = mysqlTable(
  'certificates',
  {
    id: id(),
    domain: varchar('domain', { length: 253 }).notNull(),
    /** Null for certificates of no account (e.g. the panel's own host name). */
    accountId: ref('account_id').references(() => accounts.id),
    serial: varchar('serial', { length: 128 }),
    issuer: varchar('issuer', { length: 1024 }),
    notBefore: datetime('not_before', { mode: 'date', fsp: 3 }),
    notAfter: datetime('not_after', { mode: 'date', fsp: 3 }),
    certPath: varchar('cert_path', { length: 1024 }),
    keyPath: varchar('key_path', { length: 1024 }),
    /** Serial of the certificate this one replaced: what a rollback restores. */
    previousSerial: varchar('previous_serial', { length: 128 }),
    lastOutcome: mysqlEnum('last_outcome', CERTIFICATE_OUTCOMES),
    lastError: text('last_error'),
    lastWorkflowId: varchar('last_workflow_id', { length: 255 }),
    lastRenewedAt: ts('last_renewed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('certificates_domain_uq').on(t.domain),
    // The renewal sweep pages through expiring certificates.
    index('certificates_not_after_idx').on(t.notAfter),
  ],
);

export type CertificateRow = typeof certificates.$inferSelect;
