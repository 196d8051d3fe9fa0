/**
 * A bound on long-lived streams per token: each open stream holds a slot until it closes, and a token whose
 * slots are all taken gets a 429 instead of one more poller (a script opening streams in a loop would
 * otherwise keep the API and Temporal busy forever). `take` returns the release, safe to call twice.
 */
export interface StreamSlots {
  take(tokenId: number): (() => void) | null;
  inUse(tokenId: number): number;
}

export function createStreamSlots(perToken: number): StreamSlots {
  const used = new Map<number, number>();
  return {
    take(tokenId) {
      const n = used.get(tokenId) ?? 0;
      if (n >= perToken) return null;
      used.set(tokenId, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (used.get(tokenId) ?? 1) - 1;
        if (left <= 0) used.delete(tokenId);
        else used.set(tokenId, left);
      };
    },
    inUse: (tokenId) => used.get(tokenId) ?? 0,
  };
}
