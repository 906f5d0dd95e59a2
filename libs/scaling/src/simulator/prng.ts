// Seeded PRNG (mulberry32): tiny, fast and identical on every platform, so a simulation is a pure
// function of its profile and seed.

export type Random = () => number;

/** Returns a generator of uniform numbers in [0, 1) determined entirely by `seed`. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [1 - spread, 1 + spread]. */
export function jitterFactor(random: Random, spread: number): number {
  return 1 + spread * (2 * random() - 1);
}
