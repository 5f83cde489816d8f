/**
 * A small, fast, seeded PRNG (sfc32) for the synthetic data generator. Not cryptographic; its
 * only promise is that the same seed and stream give the same sequence on every platform.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @param seed any safe integer (negative too).
   * @param stream an independent sub-sequence number, so that each file gets its own sequence.
   */
  constructor(seed: number, stream = 0) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    let h = mix32(stream ^ 0x9e3779b9);
    h = mix32(h ^ hi);
    h = mix32(h ^ lo);
    this.a = mix32(h ^ 0x243f6a88);
    this.b = mix32(h ^ 0x85a308d3);
    this.c = mix32(h ^ 0x13198a2e);
    this.d = 1;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A uniform float in [0, 1). */
  next(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniform integer in [min, max]. */
  range(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** `true` with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** A 32-bit integer hash (the murmur3 finaliser). */
function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A Zipf-like sampler over ranks 0..n-1 (weight of rank r is (r+1)^-exponent): a cumulative
 * distribution built once, sampled by binary search, with a guide table that narrows the
 * search to the few entries a uniform draw can land in.
 */
export class ZipfSampler {
  private readonly cdf: Float64Array;
  private readonly guide: Int32Array;
  private readonly guideSize: number;

  constructor(n: number, exponent: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ZipfSampler needs n >= 1, got ${n}`);
    const cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 0; r < n; r++) {
      sum += (r + 1) ** -exponent;
      cdf[r] = sum;
    }
    for (let r = 0; r < n; r++) cdf[r] = cdf[r]! / sum;
    cdf[n - 1] = 1;
    this.cdf = cdf;
    // guide[g] = the first rank whose cdf exceeds g / guideSize.
    const guideSize = Math.min(1 << 16, Math.max(16, n));
    const guide = new Int32Array(guideSize + 1);
    let r = 0;
    for (let g = 0; g <= guideSize; g++) {
      const u = g / guideSize;
      while (r < n - 1 && cdf[r]! <= u) r++;
      guide[g] = r;
    }
    this.guide = guide;
    this.guideSize = guideSize;
  }

  /** The rank for a uniform draw `u` in [0, 1). */
  sample(u: number): number {
    const g = Math.floor(u * this.guideSize);
    let lo = this.guide[g]!;
    let hi = this.guide[g + 1]!;
    const cdf = this.cdf;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
