import { KpiOverflowError } from "../errors/index.js";

/**
 * Sorted integer arrays and their merges: the cells of partials and day states are kept as
 * ascending track and user numbers, so merging them is merging sorted lists, never a hash
 * table, and encoding them is writing gaps.
 */

/** The union of two ascending arrays (each value once). */
export function unionSorted(a: Int32Array, b: Int32Array): Int32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out[n++] = x;
      i++;
    } else if (y < x) {
      out[n++] = y;
      j++;
    } else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  return n === out.length ? out : out.slice(0, n);
}

/** Counts per key of two ascending key arrays, added where keys meet; `what` names an overflow. */
export function addSorted(
  aKeys: Int32Array,
  aCounts: Int32Array,
  bKeys: Int32Array,
  bCounts: Int32Array,
  what: () => string,
): { keys: Int32Array; counts: Int32Array } {
  if (aKeys.length === 0) return { keys: bKeys, counts: bCounts };
  if (bKeys.length === 0) return { keys: aKeys, counts: aCounts };
  const keys = new Int32Array(aKeys.length + bKeys.length);
  const counts = new Int32Array(keys.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < aKeys.length && j < bKeys.length) {
    const x = aKeys[i]!;
    const y = bKeys[j]!;
    if (x < y) {
      keys[n] = x;
      counts[n++] = aCounts[i++]!;
    } else if (y < x) {
      keys[n] = y;
      counts[n++] = bCounts[j++]!;
    } else {
      const sum = aCounts[i++]! + bCounts[j++]!;
      if (sum > 0x7fffffff) throw new KpiOverflowError(`${what()} exceeds 2147483647`);
      keys[n] = x;
      counts[n++] = sum;
    }
  }
  while (i < aKeys.length) {
    keys[n] = aKeys[i]!;
    counts[n++] = aCounts[i++]!;
  }
  while (j < bKeys.length) {
    keys[n] = bKeys[j]!;
    counts[n++] = bCounts[j++]!;
  }
  return n === keys.length ? { keys, counts } : { keys: keys.slice(0, n), counts: counts.slice(0, n) };
}

/** Merges many items pairwise in a balanced tree (cost: total size times log of their number). */
export function mergeAll<T>(items: readonly T[], merge: (a: T, b: T) => T, empty: () => T): T {
  if (items.length === 0) return empty();
  let level = [...items];
  while (level.length > 1) {
    const next: T[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(merge(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level.at(-1)!);
    level = next;
  }
  return level[0]!;
}

/** Sorts keys ascending with their counts (keys distinct). */
export function sortWithCounts(
  keys: Int32Array,
  counts: Int32Array,
): { keys: Int32Array; counts: Int32Array } {
  const order = Array.from(keys.keys()).sort((a, b) => keys[a]! - keys[b]!);
  const k = new Int32Array(keys.length);
  const c = new Int32Array(keys.length);
  for (let i = 0; i < order.length; i++) {
    k[i] = keys[order[i]!]!;
    c[i] = counts[order[i]!]!;
  }
  return { keys: k, counts: c };
}

/** A sum of counts, checked to stay a safe integer. */
export function safeSum(a: number, b: number, what: () => string): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new KpiOverflowError(`${what()} exceeds ${Number.MAX_SAFE_INTEGER}`);
  return sum;
}
