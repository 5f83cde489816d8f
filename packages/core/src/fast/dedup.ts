import { TripleSet } from "./interner.js";

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
