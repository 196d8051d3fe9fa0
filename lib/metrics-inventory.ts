import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { certificates, migrations } from '../db/schema';

export interface CertificateReading {
  domain: string;
  notAfter: Date | null;
  lastOutcome: string | null;
}

/** What the API's /metrics reads from the inventory at scrape time (one small query each). */
export interface InventoryReadings {
  certificates(): Promise<CertificateReading[]>;
  /** Bytes copied by every migration the inventory knows of, and migrations by status. */
  migrations(): Promise<{ bytes: number; byStatus: Record<string, number> }>;
  /** Connections the database server holds now and its ceiling (the "connections exhausted" alert). */
  dbConnections(): Promise<{ connected: number; max: number }>;
}

export function createInventoryReadings(db: Db): InventoryReadings {
  return {
    async certificates() {
      return db
        .select({ domain: certificates.domain, notAfter: certificates.notAfter, lastOutcome: certificates.lastOutcome })
        .from(certificates);
    },
    async migrations() {
      const rows = await db
        .select({ status: migrations.status, n: sql<number>`COUNT(*)`, bytes: sql<string>`COALESCE(SUM(${migrations.bytesCopied}), 0)` })
        .from(migrations)
        .groupBy(migrations.status);
      return {
        bytes: rows.reduce((sum, r) => sum + Number(r.bytes), 0),
        byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
      };
    },
    async dbConnections() {
      // GLOBAL_STATUS needs no privilege; Threads_connected counts every client, not only this pool.
      const [rows] = await db.$client.query(
        "SELECT @@max_connections AS max, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED') AS connected",
      );
      const row = (rows as { max: number | string; connected: number | string }[])[0]!;
      return { connected: Number(row.connected), max: Number(row.max) };
    },
  };
}
