/**
 * A very short-lived cache with request coalescing for visibility lists. Temporal's list is the costly part of
 * `GET /api/v1/workflows` (a visibility query and 50 decoded executions): under a burst, identical queries share
 * one in-flight call and its answer for `ttlMs`. Staleness is bounded by the TTL, well under Temporal's own
 * visibility lag that clients already poll for. The key must hold everything that shapes the answer (the full
 * query, scope included, and the limit).
 */
export function createListCache<T>(ttlMs: number, maxEntries = 500) {
  const entries = new Map<string, { at: number; value: Promise<T> }>();
  return (key: string, load: () => Promise<T>): Promise<T> => {
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    const value = load();
    entries.delete(key);
    entries.set(key, { at: now, value });
    value.catch(() => entries.delete(key));
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    return value;
  };
}
