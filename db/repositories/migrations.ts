import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { migrations, type MigrationRow } from '../schema';
import { isDuplicateKey } from './errors';

export interface MigrationInput {
  workflowId: string;
  domain: string;
  account: string;
  nodeId: string;
  sourceHost: string;
  status?: string;
}

export function createMigrationsRepository(db: Db) {
  async function get(workflowId: string): Promise<MigrationRow | null> {
    const [row] = await db.select().from(migrations).where(eq(migrations.workflowId, workflowId)).limit(1);
    return row ?? null;
  }

  return {
    get,

    /** Idempotent per workflow ID: an activity retry gets the existing row back unchanged. */
    async create(input: MigrationInput): Promise<MigrationRow> {
      try {
        await db.insert(migrations).values({ ...input, status: input.status ?? 'running' });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      return (await get(input.workflowId))!;
    },

    /** Newest first. */
    list(filter: { account?: string; domain?: string; status?: string; limit?: number } = {}): Promise<MigrationRow[]> {
      const conditions: SQL[] = [];
      if (filter.account) conditions.push(eq(migrations.account, filter.account));
      if (filter.domain) conditions.push(eq(migrations.domain, filter.domain));
      if (filter.status) conditions.push(eq(migrations.status, filter.status));
      return db
        .select()
        .from(migrations)
        .where(and(...conditions))
        .orderBy(desc(migrations.id))
        .limit(Math.min(filter.limit ?? 100, 1000));
    },

    /** Status and/or running totals (absolute values, as the sync activity heartbeats them). */
    async update(workflowId: string, patch: { status?: string; filesCopied?: number; bytesCopied?: number }): Promise<boolean> {
      if (Object.keys(patch).length === 0) return (await get(workflowId)) !== null;
      const [result] = await db.update(migrations).set(patch).where(eq(migrations.workflowId, workflowId));
      return result.affectedRows > 0;
    },
  };
}

export type MigrationsRepository = ReturnType<typeof createMigrationsRepository>;
