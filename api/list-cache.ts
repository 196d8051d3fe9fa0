/**
 * A very short-lived cache with request coalescing for visibility lists. Temporal's list is the costly part of
 * `GET /api/v1/workflows` (a visibility query and 50 decoded executions): under a burst, identical queries share
 * one in-flight call and its answer for `ttlMs`. Between `ttlMs` and `staleMs` an answer is still served at
 * once while one refresh runs in the background (stale-while-revalidate): without that, every request that
 * arrived as the TTL ran out waited for the whole visibility query, which set the p99. Staleness is bounded by
 * `staleMs` (1 s), the order of Temporal's own visibility lag that clients already poll for. The key must hold
 * everything that shapes the answer (the full query, scope included, and the limit).
 *
 * Refresh-ahead (`keepWarmMs`): once `ttlMs` old, an answer that has been served is refreshed in the
 * background (checked every `ttlMs`), so clients that poll (a console left open, a script, a load test
 * sending a burst each second) find a fresh answer instead of the one request per `staleMs` that would wait
 * for a whole visibility query. An answer nobody has asked for since it arrived is not refreshed: a key costs
 * at most one query per request it serves (a customer's list asked once costs one refresh, not forty), and a
 * key unused for `keepWarmMs` is dropped. `close()` stops the timer.
 */
export interface ListCacheOptions {
  ttlMs: number;
  staleMs?: number;
  maxEntries?: number;
  keepWarmMs?: number;
}

export type ListCache<T> = ((key: string, load: () => Promise<T>) => Promise<T>) & { close(): void };

export function createListCache<T>(opts: ListCacheOptions): ListCache<T> {
  const { ttlMs, staleMs = 1000, maxEntries = 500, keepWarmMs = 0 } = opts;
  interface Entry {
    at: number;
    value: Promise<T>;
    settled: boolean;
    refreshing: boolean;
    usedAt: number;
    /** Handed to a caller since it arrived: only such an answer is worth refreshing ahead. */
    served: boolean;
    load: () => Promise<T>;
  }
  const entries = new Map<string, Entry>();

  const put = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  const store = (key: string, load: () => Promise<T>): Entry => {
    const entry: Entry = { at: Date.now(), value: load(), settled: false, refreshing: false, usedAt: Date.now(), served: true, load };
    entry.value.then(
      () => (entry.settled = true),
      () => entries.get(key) === entry && entries.delete(key),
    );
    put(key, entry);
    return entry;
  };

  // The old answer stays until the new one has arrived; a failed refresh keeps it until staleMs.
  const refresh = (key: string, hit: Entry) => {
    hit.refreshing = true;
    const next = hit.load();
    next.then(
      () => {
        if (entries.get(key) === hit)
          put(key, { at: Date.now(), value: next, settled: true, refreshing: false, usedAt: hit.usedAt, served: false, load: hit.load });
      },
      () => (hit.refreshing = false),
    );
  };

  const timer =
    keepWarmMs > 0
      ? setInterval(() => {
          const now = Date.now();
          for (const [key, e] of entries) {
            if (now - e.usedAt >= keepWarmMs) {
              if (now - e.at >= staleMs) entries.delete(key);
            } else if (e.settled && !e.refreshing && e.served && now - e.at >= ttlMs) refresh(key, e);
          }
        }, ttlMs)
      : undefined;
  timer?.unref();

  const get = ((key: string, load: () => Promise<T>): Promise<T> => {
    const hit = entries.get(key);
    const age = hit ? Date.now() - hit.at : Infinity;
    if (hit) {
      hit.usedAt = Date.now();
      hit.served = true;
      hit.load = load;
    }
    if (hit && age < ttlMs) return hit.value;
    if (hit && hit.settled && age < staleMs) {
      if (!hit.refreshing) refresh(key, hit);
      return hit.value;
    }
    return store(key, load).value;
  }) as ListCache<T>;
  get.close = () => clearInterval(timer);
  return get;
}
