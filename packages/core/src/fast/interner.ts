import { copyBytes } from "./bytes.js";
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

/** The buffers of an {@link InternerTransfer}, for `postMessage`'s transfer list. */
export function internerBuffers(t: InternerTransfer): ArrayBuffer[] {
  // Shared memory is shared by the message itself, not transferred.
  const buffers = [t.arena.buffer, t.starts.buffer, t.hashes.buffer, t.table.buffer];
  if (t.ends !== undefined) buffers.push(t.ends.buffer);
  return buffers.filter((b): b is ArrayBuffer => !(b instanceof SharedArrayBuffer));
}

/** A `DataView` over exactly the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A {@link ByteInterner}'s whole state as plain arrays, to send to another thread (transfer, not copy). */
export interface InternerTransfer {
  /** Keys sorted and distinct, no table built yet. */
  readonly lazy: boolean;
  readonly arena: Uint8Array;
  readonly starts: Int32Array;
  /** Where each id's bytes end, when the ids do not lie one after another in the arena. */
  readonly ends?: Int32Array | undefined;
  readonly hashes: Int32Array;
  readonly table: Int32Array;
  readonly mask: number;
  readonly size: number;
  readonly used: number;
  readonly slotInts: number;
}

/** A {@link ByteInterner}'s state in shared memory. */
export interface SharedInterner {
  readonly arena: Uint8Array;
  readonly table: Int32Array;
  readonly mask: number;
  readonly size: number;
  /** Int32 per slot: 4 or 8. */
  readonly slotInts: number;
}

// Slot layout of ByteInterner's table: four int32 (16 bytes) while every key has at most 8
// bytes, eight (32 bytes, half a cache line) after that: [tag, id + 1 (0: empty), k0, k1, ...].
// The tag is the key's hash with its low byte replaced by the key's length (255 for 255 bytes
// and more). A key of up to 8 (or 24) bytes is kept in k0, k1, ..., four bytes a word
// (little-endian); when its length is not a multiple of four, the last word holds the key's
// last four bytes (overlapping the word before), and a key of fewer than four bytes is one
// zero-padded word. So a lookup reads one slot and nothing else. A longer key is compared with
// its bytes in the arena: k0 is its start there, k1 its length.
/** Lookups a lazy interner answers by binary search before it builds its table. */
const LAZY_LOOKUPS = 8192;
const NARROW = { ints: 4, inline: 8 } as const;
const WIDE = { ints: 8, inline: 24 } as const;

/**
 * Interns byte strings (UTF-8 ids) to dense integers 0, 1, 2, ... without creating JavaScript
 * strings: an open-addressing hash table whose 32-byte slots hold the hash, the id and (for
 * keys of up to 24 bytes) the key itself, so a lookup costs one memory access at most; every
 * key's bytes are also kept in an arena, in id order. Lookups take a byte range of any buffer,
 * so a row's field is looked up where it lies.
 */
export class ByteInterner {
  #arena: Uint8Array;
  #arenaView: DataView;
  /** Where each id's bytes start in the arena, and each id's hash (grown as ids are added). */
  #starts: Int32Array;
  /**
   * Where each id's bytes end, when ids do not lie one after another in id order (keys given
   * in another order, see {@link fromDistinct}); `undefined`: id `i` ends where `i + 1` starts.
   */
  #ends: Int32Array | undefined = undefined;
  #hashes: Int32Array;
  #used = 0;
  #table: Int32Array;
  #mask: number;
  #size = 0;
  /** Int32 per slot, and the longest key kept in a slot. */
  #slotInts: number = NARROW.ints;
  #inline: number = NARROW.inline;
  /**
   * Keys given sorted and distinct, table not built yet: lookups search the arena (binary
   * search) until {@link LAZY_LOOKUPS} of them make building the table worth it. A catalog of
   * millions of ids that only a small file is checked against never builds its tables.
   */
  #lazy = false;
  #lazyLookups = 0;

  /** Sized for `expectedKeys` keys of `expectedBytes` bytes in all (both grow as needed). */
  constructor(expectedKeys = 1024, expectedBytes = 1 << 16) {
    let slots = 2048;
    while (slots < expectedKeys * 1.25) slots *= 2;
    this.#table = new Int32Array(slots * NARROW.ints);
    this.#mask = slots - 1;
    this.#arena = new Uint8Array(Math.max(16, expectedBytes));
    this.#arenaView = viewOf(this.#arena);
    this.#starts = new Int32Array(Math.max(16, expectedKeys));
    this.#hashes = new Int32Array(this.#starts.length);
  }

  get size(): number {
    return this.#size;
  }

  /** The table and key bytes, copied into shared memory, for {@link ByteInterner.fromShared} in a worker thread. */
  toShared(): SharedInterner {
    if (this.#lazy) this.#build();
    const share = <T extends Uint8Array | Int32Array>(a: T, length: number): T => {
      // Built in shared memory already (by a worker thread): shared as it is.
      if (a.buffer instanceof SharedArrayBuffer) return a.subarray(0, length) as T;
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
      slotInts: this.#slotInts,
    };
  }

  /**
   * An interner of distinct byte strings given in the order their ids should have: id `i` is
   * string `order[i]` of `bytes` (string `j` is `bytes[starts[j], starts[j + 1])`). Built
   * without lookups: the strings must be distinct. A lazy interner keeps `bytes` as it is
   * (no copy, the ids' bytes stay where they are until {@link arena} or an addition needs them
   * in id order) and, when `order` is the identity, `starts` too: change neither afterwards.
   */
  static fromDistinct(
    bytes: Uint8Array,
    starts: Int32Array,
    order: Int32Array,
    options: { readonly lazy?: boolean | undefined } = {},
  ): ByteInterner {
    const n = order.length;
    if (options.lazy === true) {
      const interner = new ByteInterner(0, 0);
      interner.#arena = bytes;
      interner.#arenaView = viewOf(bytes);
      if (isIdentity(order)) {
        interner.#starts = starts;
        interner.#used = n === 0 ? 0 : starts[n]!;
      } else {
        // Each id's span where it lies, in id order.
        const from = new Int32Array(Math.max(16, n));
        const to = new Int32Array(Math.max(16, n));
        let used = 0;
        for (let i = 0; i < n; i++) {
          const j = order[i]!;
          from[i] = starts[j]!;
          const end = starts[j + 1]!;
          to[i] = end;
          if (end > used) used = end;
        }
        interner.#starts = from;
        interner.#ends = to;
        interner.#used = used;
      }
      interner.#size = n;
      interner.#lazy = true;
      interner.#table = new Int32Array(0);
      interner.#hashes = new Int32Array(0);
      return interner;
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      const j = order[i]!;
      total += starts[j + 1]! - starts[j]!;
    }
    const interner = new ByteInterner(n, total);
    const arena = interner.#arena;
    if (interner.#starts.length < n) interner.#starts = new Int32Array(n);
    let used = 0;
    for (let i = 0; i < n; i++) {
      const j = order[i]!;
      interner.#starts[i] = used;
      used = copyBytes(arena, used, bytes, starts[j]!, starts[j + 1]!);
    }
    interner.#used = used;
    interner.#size = n;
    interner.#build();
    return interner;
  }

  /** Whether the lookup table is built (see the lazy mode of {@link fromDistinct}). */
  get indexed(): boolean {
    return !this.#lazy;
  }

  /**
   * Builds the lookup table of a lazy interner now, in shared memory (so that giving it to
   * worker threads later copies nothing): for a thread that reads a catalog another thread
   * will scan against.
   */
  buildShared(): void {
    if (!this.#lazy) return;
    const arena = new Uint8Array(new SharedArrayBuffer(Math.max(16, this.#used)));
    arena.set(this.#arena.subarray(0, this.#used));
    this.#arena = arena;
    this.#arenaView = viewOf(arena);
    this.#build(true);
  }

  /** Builds the lookup table of a lazy interner (hashes every key, places every id). */
  #build(shared = false): void {
    const n = this.#size;
    let slots = 2048;
    while (slots < n * 1.25) slots *= 2;
    this.#mask = slots - 1;
    this.#hashes = new Int32Array(Math.max(16, n));
    const arena = this.#arenaView;
    let longest = 0;
    for (let i = 0; i < n; i++) {
      const end = this.#endOf(i);
      this.#hashes[i] = hashBytes(arena, this.#starts[i]!, end);
      if (end - this.#starts[i]! > longest) longest = end - this.#starts[i]!;
    }
    const wide = longest > NARROW.inline;
    this.#slotInts = wide ? WIDE.ints : NARROW.ints;
    this.#inline = wide ? WIDE.inline : NARROW.inline;
    const ints = slots * this.#slotInts;
    this.#table = shared ? new Int32Array(new SharedArrayBuffer(ints * 4)) : new Int32Array(ints);
    this.#lazy = false;
    for (let i = 0; i < n; i++) this.#place(i);
  }

  /** Writes the slot contents of id `id` (tag, id + 1, key words) at `at` of `out`. */
  #fill(out: Int32Array, at: number, id: number): void {
    const from = this.#starts[id]!;
    const length = this.#endOf(id) - from;
    const arena = this.#arenaView;
    out[at] = tagOf(this.#hashes[id]!, length);
    out[at + 1] = id + 1;
    if (length > this.#inline) {
      out[at + 2] = from;
      out[at + 3] = length;
    } else if (length < 4) {
      out[at + 2] = shortWord(arena, from, length);
    } else {
      const full = length >>> 2;
      for (let w = 0; w < full; w++) out[at + 2 + w] = arena.getInt32(from + w * 4, true);
      if ((length & 3) !== 0) out[at + 2 + full] = arena.getInt32(from + length - 4, true);
    }
  }

  /** A lookup of a lazy interner: binary search of the sorted arena, or the table once built. */
  #sortedFind(view: DataView, start: number, end: number): number {
    if (++this.#lazyLookups > LAZY_LOOKUPS) {
      this.#build();
      return this.#lookup(view, start, end, hashBytes(view, start, end));
    }
    const arena = this.#arenaView;
    let lo = 0;
    let hi = this.#size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const from = this.#starts[mid]!;
      const to = this.#endOf(mid);
      const n = Math.min(to - from, end - start);
      let order = 0;
      for (let i = 0; i < n && order === 0; i++) order = arena.getUint8(from + i) - view.getUint8(start + i);
      if (order === 0) order = to - from - (end - start);
      if (order === 0) return mid;
      if (order < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The whole state, for `postMessage` (list `internerBuffers(transfer)` as the transfer list; this interner is unusable after). */
  toTransfer(): InternerTransfer {
    return {
      lazy: this.#lazy,
      arena: this.#arena,
      starts: this.#starts,
      ends: this.#ends,
      hashes: this.#hashes,
      table: this.#table,
      mask: this.#mask,
      size: this.#size,
      used: this.#used,
      slotInts: this.#slotInts,
    };
  }

  /** An interner from {@link toTransfer} (in the receiving thread): lookups and additions work. */
  static fromTransfer(t: InternerTransfer): ByteInterner {
    const interner = new ByteInterner(0, 0);
    interner.#arena = t.arena;
    interner.#arenaView = viewOf(t.arena);
    interner.#starts = t.starts;
    interner.#ends = t.ends;
    interner.#hashes = t.hashes;
    interner.#table = t.table;
    interner.#mask = t.mask;
    interner.#size = t.size;
    interner.#used = t.used;
    interner.#slotInts = t.slotInts;
    interner.#inline = t.slotInts === WIDE.ints ? WIDE.inline : NARROW.inline;
    interner.#lazy = t.lazy;
    return interner;
  }

  /** An interner over shared memory from {@link toShared}: for lookups (`find`) only. */
  static fromShared(shared: SharedInterner): ByteInterner {
    const interner = new ByteInterner(0, 0);
    interner.#arena = shared.arena;
    interner.#arenaView = viewOf(shared.arena);
    interner.#used = shared.arena.length;
    interner.#table = shared.table;
    interner.#mask = shared.mask;
    interner.#size = shared.size;
    interner.#slotInts = shared.slotInts;
    interner.#inline = shared.slotInts === WIDE.ints ? WIDE.inline : NARROW.inline;
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
    return this.#lookup(view, start, end, hashBytes(view, start, end));
  }

  /**
   * Reads the home slot of each hash in `hashes[0, count)` without looking at what it holds:
   * issued together, the loads' cache misses overlap, so the lookups that follow find the
   * slots in cache. Returns a value derived from what was read (so the reads are not dropped).
   */
  touch(hashes: Int32Array, count: number): number {
    if (this.#lazy) return 0;
    const table = this.#table;
    const mask = this.#mask;
    const ints = this.#slotInts;
    let seen = 0;
    for (let i = 0; i < count; i++) seen |= table[(hashes[i]! & mask) * ints + 1]!;
    return seen;
  }

  /** {@link findIn} with the key's `hashBytes` already computed. */
  findHashed(view: DataView, start: number, end: number, hash: number): number {
    return this.#lookup(view, start, end, hash);
  }

  #lookup(view: DataView, start: number, end: number, hash: number): number {
    if (this.#lazy) return this.#sortedFind(view, start, end);
    const length = end - start;
    const tag = tagOf(hash, length);
    const table = this.#table;
    const mask = this.#mask;
    const ints = this.#slotInts;
    const inline = this.#inline;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slot * ints;
      const id = table[at + 1]!;
      if (id === 0) return -1;
      if (table[at] !== tag) continue;
      if (length > inline) {
        if (table[at + 3] === length && this.#sameAsArena(view, start, length, table[at + 2]!)) return id - 1;
        continue;
      }
      if (length < 4) {
        if (table[at + 2] === shortWord(view, start, length)) return id - 1;
        continue;
      }
      const full = length >>> 2;
      let w = 0;
      while (w < full && table[at + 2 + w] === view.getInt32(start + w * 4, true)) w++;
      if (w < full) continue;
      if ((length & 3) === 0 || table[at + 2 + full] === view.getInt32(end - 4, true)) return id - 1;
    }
  }

  #sameAsArena(view: DataView, start: number, length: number, from: number): boolean {
    const arena = this.#arenaView;
    let i = 0;
    while (i + 4 <= length && arena.getInt32(from + i, true) === view.getInt32(start + i, true)) i += 4;
    if (i + 4 <= length) return false;
    while (i < length && arena.getUint8(from + i) === view.getUint8(start + i)) i++;
    return i === length;
  }

  /** For each id of this interner, the id of the same bytes in `other`, or -1. */
  translate(other: ByteInterner): Int32Array {
    const ids = new Int32Array(this.#size);
    for (let id = 0; id < this.#size; id++) {
      ids[id] = other.findIn(this.#arenaView, this.#starts[id]!, this.#endOf(id));
    }
    return ids;
  }

  /** The id of the bytes, adding them when new. */
  intern(bytes: Uint8Array, start = 0, end = bytes.length): number {
    return this.internIn(viewOf(bytes), bytes, start, end);
  }

  /** {@link intern} with a `DataView` of `bytes` the caller keeps (one per buffer, not per key). */
  internIn(view: DataView, bytes: Uint8Array, start: number, end: number): number {
    this.#contiguous();
    if (this.#lazy) this.#build();
    const hash = hashBytes(view, start, end);
    const found = this.#lookup(view, start, end, hash);
    if (found !== -1) return found;
    const length = end - start;
    if (this.#used + length > this.#arena.length) {
      const grown = new Uint8Array(Math.max(this.#arena.length * 2, this.#used + length));
      grown.set(this.#arena);
      this.#arena = grown;
      this.#arenaView = viewOf(grown);
    }
    if (this.#size === this.#starts.length) {
      const grown = new Int32Array(this.#starts.length * 2);
      grown.set(this.#starts);
      this.#starts = grown;
      const hashes = new Int32Array(grown.length);
      hashes.set(this.#hashes);
      this.#hashes = hashes;
    }
    if (length <= 32) {
      const arena = this.#arena;
      for (let i = 0; i < length; i++) arena[this.#used + i] = bytes[start + i]!;
    } else this.#arena.set(bytes.subarray(start, end), this.#used);
    const id = this.#size++;
    this.#starts[id] = this.#used;
    this.#hashes[id] = hash;
    this.#used += length;
    if (length > this.#inline && this.#slotInts === NARROW.ints) {
      // The first key too long for a narrow slot: wide slots from now on.
      this.#slotInts = WIDE.ints;
      this.#inline = WIDE.inline;
      this.#rehash(1);
    } else if (this.#size * 5 > (this.#mask + 1) * 4) this.#rehash(this.#mask < 1 << 16 ? 4 : 2);
    else this.#place(id);
    return id;
  }

  /** The bytes of id `id` (a view into the arena: copy them to keep them past the next `intern`). */
  bytesOf(id: number): Uint8Array {
    return this.#arena.subarray(this.#starts[id]!, this.#endOf(id));
  }

  /**
   * The arena (every key's bytes, in id order) and where each id's bytes start, for bulk reads.
   * Ids that lie elsewhere (see {@link fromDistinct}) are first copied into id order.
   */
  get arena(): { readonly bytes: Uint8Array; readonly starts: Int32Array; readonly used: number } {
    this.#contiguous();
    return { bytes: this.#arena, starts: this.#starts, used: this.#used };
  }

  /**
   * Every id's bytes where they lie, without the copy {@link arena} may make: id `i` is
   * `bytes[starts[i], end)`, `end` being `ends[i]`, or (`ends` undefined) the next id's start
   * (`used` for the last).
   */
  get keys(): {
    readonly bytes: Uint8Array;
    readonly starts: Int32Array;
    readonly ends: Int32Array | undefined;
    readonly used: number;
  } {
    return { bytes: this.#arena, starts: this.#starts, ends: this.#ends, used: this.#used };
  }

  /** Copies the ids' bytes into id order, one after another, when they lie elsewhere. */
  #contiguous(): void {
    const ends = this.#ends;
    if (ends === undefined) return;
    const n = this.#size;
    const from = this.#starts;
    let total = 0;
    for (let i = 0; i < n; i++) total += ends[i]! - from[i]!;
    const arena = new Uint8Array(Math.max(16, total));
    const starts = new Int32Array(Math.max(16, n));
    let used = 0;
    for (let i = 0; i < n; i++) {
      starts[i] = used;
      used = copyBytes(arena, used, this.#arena, from[i]!, ends[i]!);
    }
    this.#arena = arena;
    this.#arenaView = viewOf(arena);
    this.#starts = starts;
    this.#ends = undefined;
    this.#used = used;
    // Long keys' slots hold their place in the arena.
    if (!this.#lazy) this.#rehash(1);
  }

  /**
   * Renumbers the ids: new id `i` is old id `order[i]` (`order` a permutation of `0..size-1`).
   * The arena is rewritten in the new order and the table rebuilt from the stored hashes.
   */
  renumber(order: Int32Array): void {
    if (order.length !== this.#size) throw new Error("ByteInterner.renumber: not a permutation of the ids");
    this.#contiguous();
    if (this.#lazy) this.#build();
    const arena = new Uint8Array(Math.max(16, this.#used));
    const starts = new Int32Array(Math.max(16, this.#size));
    const hashes = new Int32Array(starts.length);
    let used = 0;
    for (let i = 0; i < order.length; i++) {
      const id = order[i]!;
      const from = this.#starts[id]!;
      const end = this.#endOf(id);
      starts[i] = used;
      hashes[i] = this.#hashes[id]!;
      arena.set(this.#arena.subarray(from, end), used);
      used += end - from;
    }
    if (used !== this.#used) throw new Error("ByteInterner.renumber: not a permutation of the ids");
    this.#arena = arena;
    this.#arenaView = viewOf(arena);
    this.#starts = starts;
    this.#hashes = hashes;
    this.#rehash(1);
  }

  /** Where id `id`'s bytes end in the arena (ids are stored in order). */
  #endOf(id: number): number {
    const ends = this.#ends;
    if (ends !== undefined) return ends[id]!;
    return id + 1 < this.#size ? this.#starts[id + 1]! : this.#used;
  }

  /** Puts id `id` (its bytes in the arena) into a free slot of the table. */
  #place(id: number): void {
    const table = this.#table;
    const ints = this.#slotInts;
    let slot = this.#hashes[id]! & this.#mask;
    while (table[slot * ints + 1] !== 0) slot = (slot + 1) & this.#mask;
    this.#fill(table, slot * ints, id);
  }

  /** Rebuilds the table with `grow` times the slots (in the current slot layout) and puts every id back. */
  #rehash(grow: number): void {
    const slots = (this.#mask + 1) * grow;
    this.#table = new Int32Array(slots * this.#slotInts);
    this.#mask = slots - 1;
    for (let id = 0; id < this.#size; id++) this.#place(id);
  }
}

/** A slot's tag: the hash with its low byte replaced by the key's length (255 for 255 and more). */
function tagOf(hash: number, length: number): number {
  return (hash & ~0xff) | Math.min(length, 255);
}

/** The bytes of a key shorter than four bytes as one little-endian word. */
function shortWord(view: DataView, start: number, length: number): number {
  let word = 0;
  for (let i = length - 1; i >= 0; i--) word = (word << 8) | view.getUint8(start + i);
  return word;
}

/** Whether `order[i] === i` for every `i`. */
function isIdentity(order: Int32Array): boolean {
  for (let i = 0; i < order.length; i++) if (order[i] !== i) return false;
  return true;
}
