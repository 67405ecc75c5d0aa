/**
 * mulberry32: a tiny, fast, seedable PRNG. Tests use it so a failing randomized run
 * can be replayed from its seed; the benchmark, so the same index always yields the
 * same record.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
