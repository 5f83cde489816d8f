import type { ByteInterner } from "./interner.js";

/** Compares two byte strings: bytewise, then the shorter first (UTF-8 bytes sort like code points). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Big-endian value of the bytes `[at, at + 4)` of `bytes[start, end)`, zero past the end. */
function word(bytes: Uint8Array, start: number, end: number, at: number): number {
  let w = 0;
  for (let i = 0; i < 4; i++) {
    const p = start + at + i;
    w = w * 256 + (p < end ? bytes[p]! : 0);
  }
  return w;
}

/**
 * Strings sorted by their first eight bytes from an offset: the ids in order, and beside each
 * its eight bytes as two big-endian words (`hi`, `lo`; zeros past its end).
 */
export interface SortedWindows {
  readonly order: Int32Array;
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
}

/** Runs this short are ordered by comparing their bytes rather than by another radix sort. */
const SHORT_RUN = 24;

/** The ids of `interner` in ascending order of their bytes: `order[rank]` is the id of rank `rank`. */
export function byteOrder(interner: ByteInterner): Int32Array {
  const { bytes, starts, used } = interner.arena;
  return sortedByBytes(bytes, starts, interner.size, used);
}

/**
 * The order of `n` byte strings (string `i` is `bytes[starts[i], starts[i + 1])`, the last one
 * ending at `used`), ascending, stable: `order[rank]` is the string of rank `rank`, and equal
 * strings keep their order.
 */
export function sortedByBytes(bytes: Uint8Array, starts: Int32Array, n: number, used: number): Int32Array {
  return sortWindows(bytes, starts, n, used).order;
}

/**
 * {@link sortedByBytes}, with each string's eight bytes after the prefix every string shares
 * (`hi`, `lo` in rank order): two neighbours whose words differ are different strings, so
 * finding duplicates reads the strings' bytes only where the words tie.
 *
 * A least-significant-digit radix sort of (id, hi, lo) records, 11 bits a pass, the records
 * moved with their keys (each pass reads front to back; a pass whose digit every key shares is
 * skipped). Runs that tie on the eight bytes are sorted by the next eight (short runs by a
 * comparison sort), so long shared prefixes cost passes, not comparisons.
 */
export function sortWindows(bytes: Uint8Array, starts: Int32Array, n: number, used: number): SortedWindows {
  const endOf = (id: number): number => (id + 1 < n ? starts[id + 1]! : used);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // The prefix every string shares: it decides nothing, so the window starts after it.
  let prefix = n > 0 ? endOf(0) - starts[0]! : 0;
  const first = n > 0 ? starts[0]! : 0;
  for (let id = 1; id < n && prefix > 0; id++) {
    const s = starts[id]!;
    const limit = Math.min(prefix, endOf(id) - s);
    let k = 0;
    while (k < limit && bytes[s + k] === bytes[first + k]) k++;
    prefix = k;
  }
  const sorted = sortRecords(bytes, starts, endOf, order, prefix);
  resolveTies(bytes, starts, endOf, order, sorted.hi, sorted.lo, prefix);
  return { order, hi: sorted.hi, lo: sorted.lo };
}

/** Sorts `ids` in place by their eight bytes from `offset` (stable); the words come back in the new order. */
function sortRecords(
  bytes: Uint8Array,
  starts: Int32Array,
  endOf: (id: number) => number,
  ids: Int32Array,
  offset: number,
): SortedWindows {
  const n = ids.length;
  let order = ids;
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const id = order[i]!;
    const s = starts[id]! + offset;
    const e = endOf(id);
    if (e - s >= 8) {
      hi[i] = ((bytes[s]! << 24) | (bytes[s + 1]! << 16) | (bytes[s + 2]! << 8) | bytes[s + 3]!) >>> 0;
      lo[i] = ((bytes[s + 4]! << 24) | (bytes[s + 5]! << 16) | (bytes[s + 6]! << 8) | bytes[s + 7]!) >>> 0;
    } else {
      hi[i] = word(bytes, s, e, 0);
      lo[i] = word(bytes, s, e, 4);
    }
  }
  // Files are often in id order already: then no pass moves anything.
  let ordered = true;
  for (let i = 1; i < n && ordered; i++)
    ordered = hi[i]! > hi[i - 1]! || (hi[i] === hi[i - 1] && lo[i]! >= lo[i - 1]!);
  if (ordered) return { order: ids, hi, lo };
  // Six 11-bit digits cover the 64 bits (the top one holds 9).
  const BITS = 11;
  const SIZE = 1 << BITS;
  const MASK = SIZE - 1;
  const counts = new Int32Array(6 * SIZE);
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    const l = lo[i]!;
    counts[l & MASK]!++;
    counts[SIZE + ((l >>> 11) & MASK)]!++;
    counts[2 * SIZE + (((l >>> 22) | (h << 10)) & MASK)]!++;
    counts[3 * SIZE + ((h >>> 1) & MASK)]!++;
    counts[4 * SIZE + ((h >>> 12) & MASK)]!++;
    counts[5 * SIZE + (h >>> 23)]!++;
  }
  let spareOrder: Int32Array = new Int32Array(n);
  let spareHi = new Uint32Array(n);
  let spareLo = new Uint32Array(n);
  const at = new Int32Array(SIZE);
  for (let d = 0; d < 6; d++) {
    const base = d * SIZE;
    let single = false;
    let sum = 0;
    for (let b = 0; b < SIZE; b++) {
      const c = counts[base + b]!;
      if (c === n) single = true;
      at[b] = sum;
      sum += c;
    }
    if (single) continue;
    // Digits 0-1 are in lo, 3-5 in hi, 2 straddles them.
    const shift = d < 2 ? 11 * d : d > 2 ? 11 * d - 32 : 0;
    for (let i = 0; i < n; i++) {
      const h = hi[i]!;
      const l = lo[i]!;
      const digit =
        d < 2 ? (l >>> shift) & MASK : d > 2 ? (h >>> shift) & MASK : ((l >>> 22) | (h << 10)) & MASK;
      const to = at[digit]!++;
      spareOrder[to] = order[i]!;
      spareHi[to] = h;
      spareLo[to] = l;
    }
    [order, spareOrder] = [spareOrder, order];
    [hi, spareHi] = [spareHi, hi];
    [lo, spareLo] = [spareLo, lo];
  }
  if (order !== ids) ids.set(order);
  return { order: ids, hi, lo };
}

/** Orders each run of `order` whose words tie by the bytes after the window (stable). */
function resolveTies(
  bytes: Uint8Array,
  starts: Int32Array,
  endOf: (id: number) => number,
  order: Int32Array,
  hi: Uint32Array,
  lo: Uint32Array,
  offset: number,
): void {
  const n = order.length;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && hi[j] === hi[i] && lo[j] === lo[i]) j++;
    if (j - i > 1) sortRun(bytes, starts, endOf, order.subarray(i, j), offset + 8);
    i = j;
  }
}

/** Sorts a run of ids that share their bytes up to `offset` (zero-padded), stable. */
function sortRun(
  bytes: Uint8Array,
  starts: Int32Array,
  endOf: (id: number) => number,
  run: Int32Array,
  offset: number,
): void {
  let longer = false;
  for (let i = 0; i < run.length && !longer; i++) longer = endOf(run[i]!) - starts[run[i]!]! > offset;
  if (!longer) {
    // Every string ends within the bytes they share (zero-padded): the shorter comes first.
    const sorted = Array.from(run).sort((a, b) => endOf(a) - starts[a]! - (endOf(b) - starts[b]!));
    run.set(sorted);
    return;
  }
  if (run.length <= SHORT_RUN) {
    const view = (id: number) => bytes.subarray(starts[id]!, endOf(id));
    const sorted = Array.from(run).sort((a, b) => compareBytes(view(a), view(b)));
    run.set(sorted);
    return;
  }
  const next = sortRecords(bytes, starts, endOf, run, offset);
  resolveTies(bytes, starts, endOf, run, next.hi, next.lo, offset);
}
