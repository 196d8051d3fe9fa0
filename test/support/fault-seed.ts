import crypto from 'node:crypto';

/**
 * The seeded randomness of the fault tests: the seed comes from NPANEL_FAULT_SEED or is drawn at random, and
 * the test prints it, so a failing run's kill points can be replayed exactly.
 */
export function faultRandom(envSeed = process.env.NPANEL_FAULT_SEED) {
  const seed = Number(envSeed ?? crypto.randomInt(1, 2 ** 31));
  let state = seed;
  /** mulberry32: a small seeded generator (uniform in [0, 1)). */
  function random(): number {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  return { seed, random, between };
}
