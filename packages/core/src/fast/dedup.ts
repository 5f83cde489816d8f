/** Seconds per window of {@link DuplicateFilter} at first. */
const WINDOW_SECONDS = 128;
/** From this many windows on, windows holding fewer than {@link MIN_KEYS_PER_WINDOW} keys on average are widened. */
const MANY_WINDOWS = 1024;
const MIN_KEYS_PER_WINDOW = 16;
const TWO_32 = 4294967296;

/**
 * The in-file duplicate check of the fast path: an exact set of (user, track, second) triples,
 * kept as one small hash set per 128-second window of time.
 *
 * A row can only duplicate a row of the same second, so the keys can be split by time without
 * losing exactness. Event files come mostly in time order, and then the rows being read all
 * fall in the window of the moment, whose set stays in the CPU's cache; a single set of every
 * key of a large file would cost a cache miss per row. Rows out of order (late deliveries,
 * merged logs, repeats) go to their own window's set: still exact, only the cache benefit is
 * lost for them.
 *
 * A window costs a few hundred bytes besides its keys, so sparse rows (a file spanning years)
 * would pay that per row: once there are 1,024 windows holding fewer than 16 keys each on
 * average, the windows become 16 times wider and every key is put back (repeatedly if need
 * be), which bounds that cost to a few dozen bytes a key.
 */
export class DuplicateFilter {
  readonly #windows = new Map<number, TripleSet>();
  #seconds = WINDOW_SECONDS;
  #lastWindow = Number.NaN;
  #last: TripleSet | undefined;
  #size = 0;

  /** Keys added since the last {@link clear}. */
  get size(): number {
    return this.#size;
  }

  /** Seconds per window now (128 unless sparse rows widened them). */
  get windowSeconds(): number {
    return this.#seconds;
  }

  /** Windows holding keys. */
  get windows(): number {
    return this.#windows.size;
  }

  /** Empties the filter. */
  clear(): void {
    this.#windows.clear();
    this.#seconds = WINDOW_SECONDS;
    this.#lastWindow = Number.NaN;
    this.#last = undefined;
    this.#size = 0;
  }

  /** Adds the triple; `false` when it was there already. `second` is a whole number. */
  add(user: number, track: number, second: number): boolean {
    const window = Math.floor(second / this.#seconds);
    const set = window === this.#lastWindow ? this.#last! : this.#window(window, second);
    if (!set.add(user, track, second)) return false;
    this.#size++;
    return true;
  }

  #window(window: number, second: number): TripleSet {
    let set = this.#windows.get(window);
    if (set === undefined) {
      if (this.#windows.size >= MANY_WINDOWS && this.#windows.size * MIN_KEYS_PER_WINDOW > this.#size) {
        this.#widen();
        return this.#window(Math.floor(second / this.#seconds), second);
      }
      // Sized like the window before it (rows in time order fill windows about evenly), so
      // it seldom needs to grow.
      set = new TripleSet(this.#last?.size ?? 8);
      this.#windows.set(window, set);
    }
    this.#lastWindow = window;
    this.#last = set;
    return set;
  }

  /** Makes the windows 16 times wider and puts every key back. */
  #widen(): void {
    const keys = this.keys();
    this.#seconds *= 16;
    this.#windows.clear();
    this.#lastWindow = Number.NaN;
    this.#last = undefined;
    this.#size = 0;
    addKeys(this, keys, () => {
      throw new Error("DuplicateFilter: a key was there twice");
    });
  }

  /**
   * Every key added since the last {@link clear}, four int32 each: user, track + 1, second low
   * word, second high word (a copy, for sending a range's keys to the thread that merges the
   * ranges of a file).
   */
  keys(): Int32Array {
    const keys = new Int32Array(this.#size * 4);
    let at = 0;
    for (const set of this.#windows.values()) {
      const table = set.table;
      for (let i = 0; i < table.length; i += 4) {
        if (table[i + 1] === 0) continue;
        keys[at++] = table[i]!;
        keys[at++] = table[i + 1]!;
        keys[at++] = table[i + 2]!;
        keys[at++] = table[i + 3]!;
      }
    }
    return keys;
  }
}

/** Adds every key of {@link DuplicateFilter.keys} output to `filter`, calling `onRepeat` for each one already there. */
export function addKeys(
  filter: DuplicateFilter,
  keys: Int32Array,
  onRepeat: (user: number, track: number, second: number) => void,
): void {
  for (let at = 0; at < keys.length; at += 4) {
    const trackPlusOne = keys[at + 1]!;
    if (trackPlusOne === 0) continue;
    const second = keys[at + 3]! * TWO_32 + (keys[at + 2]! >>> 0);
    if (!filter.add(keys[at]!, trackPlusOne - 1, second)) onRepeat(keys[at]!, trackPlusOne - 1, second);
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
