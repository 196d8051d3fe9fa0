/**
 * A very short-lived cache with request coalescing for visibility lists. Temporal's list is the costly part of
 * `GET /api/v1/workflows` (a visibility query and 50 decoded executions): under a burst, identical queries share
 * one in-flight call and its answer for `ttlMs`. Between `ttlMs` and `staleMs` an answer is still served at
 * once while one refresh runs in the background (stale-while-revalidate): without that, every request that
 * arrived as the TTL ran out waited for the whole visibility query, which set the p99. Staleness is bounded by
 * `staleMs` (1 s), the order of Temporal's own visibility lag that clients already poll for. The key must hold
 * everything that shapes the answer (the full query, scope included, and the limit).
 */
export function createListCache<T>(ttlMs: number, staleMs = 1000, maxEntries = 500) {
  interface Entry {
    at: number;
    value: Promise<T>;
    settled: boolean;
    refreshing: boolean;
  }
  const entries = new Map<string, Entry>();

  const store = (key: string, load: () => Promise<T>): Entry => {
    const entry: Entry = { at: Date.now(), value: load(), settled: false, refreshing: false };
    entry.value.then(
      () => (entry.settled = true),
      () => entries.get(key) === entry && entries.delete(key),
    );
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    return entry;
  };

  return (key: string, load: () => Promise<T>): Promise<T> => {
    const hit = entries.get(key);
    const age = hit ? Date.now() - hit.at : Infinity;
    if (hit && age < ttlMs) return hit.value;
    if (hit && hit.settled && age < staleMs) {
      if (!hit.refreshing) {
        hit.refreshing = true;
        // The old answer stays until the new one has arrived; a failed refresh keeps it until staleMs.
        const next = load();
        next.then(
          () => {
            if (entries.get(key) === hit) {
              entries.delete(key);
              entries.set(key, { at: Date.now(), value: next, settled: true, refreshing: false });
            }
          },
          () => (hit.refreshing = false),
        );
      }
      return hit.value;
    }
    return store(key, load).value;
  };
}
