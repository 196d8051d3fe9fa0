import { asc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { nodeTaskQueue } from '../../common/task-queues';
import { nodes, type NodeRow } from '../schema';

export function createNodesRepository(db: Db) {
  async function get(id: string): Promise<NodeRow | null> {
    const [row] = await db.select().from(nodes).where(eq(nodes.id, id)).limit(1);
    return row ?? null;
  }

  return {
    get,

    /**
     * Registers a node or refreshes its address; its worker calls this at every start, which also marks it
     * seen. Accounts reference nodes, so a node must be registered before anything is provisioned on it.
     */
    async upsert(input: { id: string; ip: string; taskQueue?: string }): Promise<NodeRow> {
      const taskQueue = input.taskQueue ?? nodeTaskQueue(input.id);
      const now = new Date();
      await db
        .insert(nodes)
        .values({ id: input.id, ip: input.ip, taskQueue, lastSeenAt: now })
        .onDuplicateKeyUpdate({ set: { ip: input.ip, taskQueue, lastSeenAt: now } });
      return (await get(input.id))!;
    },

    list(): Promise<NodeRow[]> {
      return db.select().from(nodes).orderBy(asc(nodes.id));
    },

    /** Heartbeat from a running worker. Returns false for an unknown node. */
    async touch(id: string): Promise<boolean> {
      const [result] = await db.update(nodes).set({ lastSeenAt: new Date() }).where(eq(nodes.id, id));
      return result.affectedRows > 0;
    },
  };
}

export type NodesRepository = ReturnType<typeof createNodesRepository>;
