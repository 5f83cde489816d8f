/**
 * A hash of the bytes `[start, end)` of `view`: four bytes a step (read little-endian), then
 * the last one to three, then a final mix (murmur3's) so the low bits a table keeps depend on
 * every byte.
 */
export function hashBytes(view: DataView, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(h ^ view.getInt32(i, true), 0x01000193);
    h ^= h >>> 15;
  }
  for (; i < end; i++) h = Math.imul(h ^ view.getUint8(i), 0x01000193);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** A `DataView` over exactly the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A {@link ByteInterner}'s state in shared memory. */
export interface SharedInterner {
  readonly arena: Uint8Array;
  readonly table: Int32Array;
  readonly mask: number;
  readonly size: number;
}

// Slot layout of ByteInterner's table: [hash, arena start, length, id + 1] (0 in the last: empty).
const SLOT = 4;

/**
 * Interns byte strings (UTF-8 ids) to dense integers 0, 1, 2, ... without creating JavaScript
 * strings: an open-addressing hash table over an arena of the key bytes. Lookups take a byte
 * range of any buffer, so a row's field is looked up where it lies. Each slot holds the hash,
 * position and id together, so a lookup touches one slot and the key's bytes.
 */
export class ByteInterner {
  #arena: Uint8Array;
  #arenaView: DataView;
  #used = 0;
  #table: Int32Array;
  #mask: number;
  #size = 0;

  /** Sized for `expectedKeys` keys of `expectedBytes` bytes in all (both grow as needed). */
  constructor(expectedKeys = 1024, expectedBytes = 1 << 16) {
    let slots = 2048;
    while (slots < expectedKeys * 2) slots *= 2;
    this.#table = new Int32Array(slots * SLOT);
    this.#mask = slots - 1;
    this.#arena = new Uint8Array(Math.max(16, expectedBytes));
    this.#arenaView = viewOf(this.#arena);
  }

  get size(): number {
    return this.#size;
  }

  /** The table and key bytes, copied into shared memory, for {@link ByteInterner.fromShared} in a worker thread. */
  toShared(): SharedInterner {
    const share = <T extends Uint8Array | Int32Array>(a: T, length: number): T => {
      const view = new (a.constructor as new (b: SharedArrayBuffer) => T)(
        new SharedArrayBuffer(length * a.BYTES_PER_ELEMENT),
      );
      view.set(a.subarray(0, length) as never);
      return view;
    };
    return {
      arena: share(this.#arena, this.#used),
      table: share(this.#table, this.#table.length),
      mask: this.#mask,
      size: this.#size,
    };
  }

  /** An interner over shared memory from {@link toShared}: for lookups (`find`) only. */
  static fromShared(shared: SharedInterner): ByteInterner {
    const interner = new ByteInterner();
    interner.#arena = shared.arena;
    interner.#arenaView = viewOf(shared.arena);
    interner.#used = shared.arena.length;
    interner.#table = shared.table;
    interner.#mask = shared.mask;
    interner.#size = shared.size;
    return interner;
  }

  /** The id of the bytes `[start, end)` of `bytes`, or -1. */
  find(bytes: Uint8Array, start: number, end: number): number {
    return this.findIn(viewOf(bytes), start, end);
  }

  /**
   * The id of the bytes `[start, end)` of `view`, or -1: {@link find} for a hot loop that
   * keeps one `DataView` per buffer (keys are hashed and compared four bytes at a time).
   */
  findIn(view: DataView, start: number, end: number): number {
    const hash = hashBytes(view, start, end);
    const length = end - start;
    const table = this.#table;
    const arena = this.#arenaView;
    for (let slot = hash & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const at = slot * SLOT;
      const id = table[at + 3]!;
      if (id === 0) return -1;
      if (table[at] !== hash || table[at + 2] !== length) continue;
      const from = table[at + 1]!;
      let i = 0;
      while (i + 4 <= length && arena.getInt32(from + i, true) === view.getInt32(start + i, true)) i += 4;
      if (i + 4 <= length) continue;
      while (i < length && arena.getUint8(from + i) === view.getUint8(start + i)) i++;
      if (i === length) return id - 1;
    }
  }

  /** The id of the bytes, adding them when new. */
  intern(bytes: Uint8Array, start = 0, end = bytes.length): number {
    const view = viewOf(bytes);
    const found = this.findIn(view, start, end);
    if (found !== -1) return found;
    const length = end - start;
    if (this.#used + length > this.#arena.length) {
      const grown = new Uint8Array(Math.max(this.#arena.length * 2, this.#used + length));
      grown.set(this.#arena);
      this.#arena = grown;
      this.#arenaView = viewOf(grown);
    }
    this.#arena.set(bytes.subarray(start, end), this.#used);
    const id = this.#size++;
    this.#place(hashBytes(view, start, end), this.#used, length, id + 1);
    this.#used += length;
    if (this.#size * 2 > this.#mask + 1) this.#rehash();
    return id;
  }

  #place(hash: number, from: number, length: number, idPlusOne: number): void {
    let slot = hash & this.#mask;
    while (this.#table[slot * SLOT + 3] !== 0) slot = (slot + 1) & this.#mask;
    const at = slot * SLOT;
    this.#table[at] = hash;
    this.#table[at + 1] = from;
    this.#table[at + 2] = length;
    this.#table[at + 3] = idPlusOne;
  }

  #rehash(): void {
    const old = this.#table;
    this.#table = new Int32Array(old.length * 2);
    this.#mask = (old.length / SLOT) * 2 - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + 3] !== 0) this.#place(old[at]!, old[at + 1]!, old[at + 2]!, old[at + 3]!);
    }
  }
}

/**
 * An exact set of (user, track, second) triples: the in-file duplicate check of the fast path.
 * One slot is four int32 (user, track + 1, second low and high words), so an insert touches a
 * single cache line; 32 bytes a row at most.
 */
export class TripleSet {
  #table: Int32Array;
  #mask: number;
  #size = 0;

  /** `expectedKeys` sizes the table so that this many keys fit without growing it. */
  constructor(expectedKeys = 2048) {
    let slots = 16;
    while (slots < expectedKeys * 2) slots *= 2;
    this.#table = new Int32Array(slots * 4);
    this.#mask = slots - 1;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * The table: four int32 a slot (user, track + 1, second low word, second high word), track
   * 0 meaning empty. For sending a range's keys to the thread that merges the ranges.
   */
  get table(): Int32Array {
    return this.#table;
  }

  /** Empties the set, keeping its capacity (the next file of similar size needs no growing). */
  clear(): void {
    this.#table.fill(0);
    this.#size = 0;
  }

  /** Adds the triple; `false` when it was there already. `second` is a whole number. */
  add(user: number, track: number, second: number): boolean {
    const lo = second | 0;
    const hi = Math.floor(second / 4294967296) | 0;
    // Mix all bits into the low ones the mask keeps (murmur3's finaliser).
    let h = Math.imul(user, 0x9e3779b1) ^ Math.imul(track, 0x85ebca6b) ^ lo ^ Math.imul(hi, 0x27d4eb2f);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const table = this.#table;
    const trackPlusOne = track + 1;
    for (let slot = h & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const at = slot * 4;
      const t = table[at + 1]!;
      if (t === 0) {
        table[at] = user;
        table[at + 1] = trackPlusOne;
        table[at + 2] = lo;
        table[at + 3] = hi;
        if (++this.#size * 2 > this.#mask + 1) this.#grow();
        return true;
      }
      if (t === trackPlusOne && table[at] === user && table[at + 2] === lo && table[at + 3] === hi)
        return false;
    }
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Int32Array(old.length * 2);
    this.#mask = old.length / 2 - 1;
    this.#size = 0;
    for (let at = 0; at < old.length; at += 4) {
      if (old[at + 1] !== 0)
        this.add(old[at]!, old[at + 1]! - 1, old[at + 3]! * 4294967296 + (old[at + 2]! >>> 0));
    }
  }
}
