/**
 * The scenario generator's seeded randomness: SplitMix64 (Steele, Lea & Flood,
 * "Fast splittable pseudorandom number generators", OOPSLA 2014; the
 * reference C code is on Sebastiano Vigna's prng.di.unimi.it). 64-bit state,
 * computed on bigints, so the sequence is the same on every machine and every
 * Node version — no float64 anywhere.
 *
 * Independent streams: every purpose (one population group, the noise of one
 * instrument) gets its own generator whose starting state is derived from the
 * scenario seed and a label (`streamFor(seed, 'noise/BTC-PERP')`). Adding a
 * population group therefore leaves the price path unchanged, and vice versa.
 */

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** The SplitMix64 output function (a 64-bit finalizer, "mix64variant13"). */
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** FNV-1a, 64-bit, over the label's UTF-16 code units (low byte, then high byte). */
function fnv1a64(label: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < label.length; i++) {
    const unit = label.charCodeAt(i);
    for (const byte of [unit & 0xff, unit >> 8]) {
      hash ^= BigInt(byte);
      hash = (hash * 0x100000001b3n) & MASK64;
    }
  }
  return hash;
}

export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint) {
    this.state = seed & MASK64;
  }

  /** The next 64-bit output, as an unsigned bigint in [0, 2^64). */
  next(): bigint {
    this.state = (this.state + GOLDEN_GAMMA) & MASK64;
    return mix64(this.state);
  }

  /**
   * A uniform integer in [lo, hi] (inclusive), by rejection sampling over as
   * many 64-bit words as the range needs: exact, no modulo bias.
   */
  uniformBigInt(lo: bigint, hi: bigint): bigint {
    if (hi < lo) throw new RangeError(`empty range [${lo}, ${hi}]`);
    const range = hi - lo + 1n;
    if (range === 1n) {
      this.next(); // one draw per call, whatever the range, so streams stay aligned
      return lo;
    }
    let bits = 64n;
    while (1n << bits < range) bits += 64n;
    const space = 1n << bits;
    const limit = space - (space % range); // largest multiple of range that fits
    for (;;) {
      let x = 0n;
      for (let b = 0n; b < bits; b += 64n) x = (x << 64n) | this.next();
      if (x < limit) return lo + (x % range);
    }
  }
}

/** The generator of one named stream of a scenario (`seed` is the scenario's `seed`). */
export function streamFor(seed: number | bigint, label: string): SplitMix64 {
  return new SplitMix64(mix64((BigInt(seed) ^ fnv1a64(label)) & MASK64));
}
