/**
 * Integer sets and counters sized by what they hold, not by the range their keys come from:
 * open-addressing hash tables while small, a dense array (bitmap, counts) once that is the
 * smaller of the two. The accumulator of the fast row source keeps one set of listeners per
 * (day, genre) and one counter of listens per day in them, so its memory follows the distinct
 * (day, genre, listener) and (day, track) cells actually present: a catalog of two million
 * users no longer costs 250 KB per (day, genre).
 */

/** Fibonacci hashing: the top bits of `key * 2^32 / phi`, spread over a power-of-two table. */
function slotOf(key: number, shift: number): number {
  return Math.imul(key, 0x9e3779b1) >>> shift;
}

/** Slots of the smallest table that holds `count` keys below half load (at least 8). */
function slotsFor(count: number): number {
  let slots = 8;
  while (slots < count * 2) slots *= 2;
  return slots;
}

/**
 * A set of whole numbers in `[0, universe)`. Sparse (a hash table of `value + 1`, 0 meaning
 * empty, at most half full) until the table would take more bytes than a bitmap of the
 * universe, then a bitmap.
 */
export class IntSet {
  readonly universe: number;
  #table: Int32Array | undefined;
  #shift: number;
  #bits: Uint32Array | undefined;
  #size = 0;

  constructor(universe: number, expected = 0) {
    this.universe = universe;
    const slots = slotsFor(expected);
    if (slots * 4 > Math.ceil(universe / 8) && universe > 0) {
      this.#bits = new Uint32Array((universe + 31) >>> 5);
      this.#table = undefined;
      this.#shift = 0;
    } else {
      this.#table = new Int32Array(slots);
      this.#shift = 32 - Math.log2(slots);
    }
  }

  /** Members. */
  get size(): number {
    return this.#size;
  }

  /** Bytes held by the set's table or bitmap. */
  get bytes(): number {
    return (this.#table ?? this.#bits!).byteLength;
  }

  /** Adds `value`; `false` when it was there already. */
  add(value: number): boolean {
    const bits = this.#bits;
    if (bits !== undefined) {
      const word = value >>> 5;
      const mask = 1 << (value & 31);
      const old = bits[word]!;
      if ((old & mask) !== 0) return false;
      bits[word] = old | mask;
      this.#size++;
      return true;
    }
    const table = this.#table!;
    const stored = value + 1;
    const last = table.length - 1;
    for (let slot = slotOf(value, this.#shift); ; slot = (slot + 1) & last) {
      const at = table[slot]!;
      if (at === stored) return false;
      if (at === 0) {
        table[slot] = stored;
        if (++this.#size * 2 > table.length) this.#grow();
        return true;
      }
    }
  }

  /** Whether `value` is a member. */
  has(value: number): boolean {
    const bits = this.#bits;
    if (bits !== undefined) return (bits[value >>> 5]! & (1 << (value & 31))) !== 0;
    const table = this.#table!;
    const stored = value + 1;
    const last = table.length - 1;
    for (let slot = slotOf(value, this.#shift); ; slot = (slot + 1) & last) {
      const at = table[slot]!;
      if (at === stored) return true;
      if (at === 0) return false;
    }
  }

  #grow(): void {
    const old = this.#table!;
    const slots = old.length * 2;
    if (slots * 4 > Math.ceil(this.universe / 8)) {
      const bits = new Uint32Array((this.universe + 31) >>> 5);
      for (let i = 0; i < old.length; i++) {
        const v = old[i]! - 1;
        if (v >= 0) bits[v >>> 5]! |= 1 << (v & 31);
      }
      this.#bits = bits;
      this.#table = undefined;
      return;
    }
    const table = new Int32Array(slots);
    const shift = this.#shift - 1;
    const last = slots - 1;
    for (let i = 0; i < old.length; i++) {
      const stored = old[i]!;
      if (stored === 0) continue;
      let slot = slotOf(stored - 1, shift);
      while (table[slot] !== 0) slot = (slot + 1) & last;
      table[slot] = stored;
    }
    this.#table = table;
    this.#shift = shift;
  }

  /** The members, in no particular order. */
  members(): Int32Array {
    if (this.#bits !== undefined) return this.sorted();
    const out = new Int32Array(this.#size);
    const table = this.#table!;
    let n = 0;
    for (let i = 0; i < table.length; i++) if (table[i] !== 0) out[n++] = table[i]! - 1;
    return out;
  }

  /** The members, ascending. */
  sorted(): Int32Array {
    const out = new Int32Array(this.#size);
    let n = 0;
    const bits = this.#bits;
    if (bits !== undefined) {
      for (let w = 0; w < bits.length; w++) {
        let word = bits[w]!;
        while (word !== 0) {
          const low = word & -word;
          out[n++] = w * 32 + 31 - Math.clz32(low);
          word ^= low;
        }
      }
      return out;
    }
    const table = this.#table!;
    for (let i = 0; i < table.length; i++) if (table[i] !== 0) out[n++] = table[i]! - 1;
    return out.sort();
  }

  /** Adds every member of `values`. */
  addAll(values: Int32Array): void {
    if (this.#table !== undefined && this.#size === 0) this.#reserve(values.length);
    for (let i = 0; i < values.length; i++) this.add(values[i]!);
  }

  /** Grows an empty table to hold `count` members without growing again. */
  #reserve(count: number): void {
    const slots = slotsFor(count);
    if (slots <= this.#table!.length) return;
    if (slots * 4 > Math.ceil(this.universe / 8)) {
      this.#bits = new Uint32Array((this.universe + 31) >>> 5);
      this.#table = undefined;
      return;
    }
    this.#table = new Int32Array(slots);
    this.#shift = 32 - Math.log2(slots);
  }

  /** Adds every member of `other` (of the same universe). */
  addSet(other: IntSet): void {
    const bits = other.#bits;
    if (bits !== undefined && this.#bits !== undefined) {
      const mine = this.#bits;
      let size = 0;
      for (let w = 0; w < bits.length; w++) {
        const v = mine[w]! | bits[w]!;
        mine[w] = v;
        size += popcount(v);
      }
      this.#size = size;
      return;
    }
    if (bits !== undefined) {
      this.addAll(other.sorted());
      return;
    }
    const table = other.#table!;
    for (let i = 0; i < table.length; i++) if (table[i] !== 0) this.add(table[i]! - 1);
  }
}

/** Set bits of a 32-bit word. */
export function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) >>> 0;
}

/**
 * Counts per whole number in `[0, universe)`. Sparse (a hash table of `[key + 1, count]`
 * pairs, at most half full) until the table would take more bytes than a dense array of the
 * universe's counts, then that array. Counts stay int32: the accumulators check sums against
 * overflow where they add counts of different sources.
 */
export class IntCounter {
  readonly universe: number;
  #table: Int32Array | undefined;
  #shift: number;
  #dense: Int32Array | undefined;
  #size = 0;

  constructor(universe: number, expected = 0) {
    this.universe = universe;
    const slots = slotsFor(expected);
    if (slots * 8 > universe * 4 && universe > 0) {
      this.#dense = new Int32Array(universe);
      this.#shift = 0;
    } else {
      this.#table = new Int32Array(slots * 2);
      this.#shift = 32 - Math.log2(slots);
    }
  }

  /** Keys with a count (a key counted and then taken back to 0 stays one). */
  get size(): number {
    return this.#size;
  }

  /** Bytes held by the counter's table or array. */
  get bytes(): number {
    return (this.#table ?? this.#dense!).byteLength;
  }

  /** Adds `delta` to the count of `key` and returns the new count. */
  add(key: number, delta: number): number {
    const dense = this.#dense;
    if (dense !== undefined) {
      const old = dense[key]!;
      if (old === 0) this.#size++;
      const count = old + delta;
      dense[key] = count;
      return count;
    }
    const table = this.#table!;
    const stored = key + 1;
    const last = (table.length >>> 1) - 1;
    for (let slot = slotOf(key, this.#shift); ; slot = (slot + 1) & last) {
      const at = slot << 1;
      const k = table[at]!;
      if (k === stored) {
        const count = table[at + 1]! + delta;
        table[at + 1] = count;
        return count;
      }
      if (k === 0) {
        table[at] = stored;
        table[at + 1] = delta;
        if (++this.#size * 4 > table.length) this.#grow();
        return delta;
      }
    }
  }

  /** The count of `key` (0 when it has none). */
  get(key: number): number {
    const dense = this.#dense;
    if (dense !== undefined) return dense[key]!;
    const table = this.#table!;
    const stored = key + 1;
    const last = (table.length >>> 1) - 1;
    for (let slot = slotOf(key, this.#shift); ; slot = (slot + 1) & last) {
      const at = slot << 1;
      const k = table[at]!;
      if (k === stored) return table[at + 1]!;
      if (k === 0) return 0;
    }
  }

  #grow(): void {
    const old = this.#table!;
    const slots = old.length; // twice the pairs there were
    if (slots * 8 > this.universe * 4) {
      const dense = new Int32Array(this.universe);
      for (let at = 0; at < old.length; at += 2) if (old[at] !== 0) dense[old[at]! - 1] = old[at + 1]!;
      this.#dense = dense;
      this.#table = undefined;
      return;
    }
    const table = new Int32Array(slots * 2);
    const shift = this.#shift - 1;
    const last = slots - 1;
    for (let at = 0; at < old.length; at += 2) {
      const stored = old[at]!;
      if (stored === 0) continue;
      let slot = slotOf(stored - 1, shift);
      while (table[slot << 1] !== 0) slot = (slot + 1) & last;
      table[slot << 1] = stored;
      table[(slot << 1) + 1] = old[at + 1]!;
    }
    this.#table = table;
    this.#shift = shift;
  }

  /** Calls `visit(key, count)` for every key with a non-zero count, in no particular order. */
  forEach(visit: (key: number, count: number) => void): void {
    const dense = this.#dense;
    if (dense !== undefined) {
      for (let k = 0; k < dense.length; k++) if (dense[k] !== 0) visit(k, dense[k]!);
      return;
    }
    const table = this.#table!;
    for (let at = 0; at < table.length; at += 2) {
      if (table[at] !== 0 && table[at + 1] !== 0) visit(table[at]! - 1, table[at + 1]!);
    }
  }

  /** Keys with a non-zero count and their counts, in no particular order. */
  dump(): { keys: Int32Array; counts: Int32Array } {
    const keys = new Int32Array(this.#size);
    const counts = new Int32Array(this.#size);
    let n = 0;
    this.forEach((key, count) => {
      keys[n] = key;
      counts[n++] = count;
    });
    return { keys: keys.subarray(0, n), counts: counts.subarray(0, n) };
  }

  /** Keys with a non-zero count and their counts, by ascending key. */
  entries(): { keys: Int32Array; counts: Int32Array } {
    const dense = this.#dense;
    if (dense !== undefined) {
      const keys = new Int32Array(this.#size);
      const counts = new Int32Array(this.#size);
      let n = 0;
      for (let k = 0; k < dense.length; k++) {
        if (dense[k] === 0) continue;
        keys[n] = k;
        counts[n++] = dense[k]!;
      }
      return { keys: keys.subarray(0, n), counts: counts.subarray(0, n) };
    }
    const keys = new Int32Array(this.#size);
    let n = 0;
    this.forEach((key) => {
      keys[n++] = key;
    });
    const sorted = keys.subarray(0, n).sort();
    const counts = new Int32Array(n);
    for (let i = 0; i < n; i++) counts[i] = this.get(sorted[i]!);
    return { keys: sorted, counts };
  }
}
