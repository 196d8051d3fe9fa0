/**
 * One poll per watched workflow, however many event streams show it: a console left open in ten tabs costs one
 * describe + progress query every `pollMs`, not ten. The loop runs while the workflow has subscribers and stops
 * when the last one leaves. A failed read is handed to subscribers as an Error (they keep their last state).
 */
export type WatchUpdate<T> = { detail: T | null } | { error: Error };

export interface WorkflowWatch<T> {
  subscribe(id: string, onUpdate: (u: WatchUpdate<T>) => void): () => void;
  /** How many polling loops run now (for tests and metrics). */
  loops(): number;
}

export function createWorkflowWatch<T>(load: (id: string) => Promise<T | null>, pollMs: number): WorkflowWatch<T> {
  const watched = new Map<string, Set<(u: WatchUpdate<T>) => void>>();

  const loop = async (id: string, subscribers: Set<(u: WatchUpdate<T>) => void>) => {
    while (subscribers.size > 0) {
      await new Promise((r) => setTimeout(r, pollMs));
      if (subscribers.size === 0) break;
      let update: WatchUpdate<T>;
      try {
        update = { detail: await load(id) };
      } catch (err) {
        update = { error: err as Error };
      }
      for (const fn of [...subscribers]) fn(update);
    }
    if (watched.get(id) === subscribers) watched.delete(id);
  };

  return {
    subscribe(id, onUpdate) {
      let subscribers = watched.get(id);
      const fresh = !subscribers;
      if (!subscribers) {
        subscribers = new Set();
        watched.set(id, subscribers);
      }
      subscribers.add(onUpdate);
      // Started after the first subscriber is in: the loop ends as soon as it finds the set empty.
      if (fresh) void loop(id, subscribers);
      const mine = subscribers;
      return () => {
        mine.delete(onUpdate);
      };
    },
    loops: () => watched.size,
  };
}
