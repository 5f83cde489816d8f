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

/** One stable counting-sort pass of `from` into `to` by the 16-bit digit `digit(id)`; `false` when every id has the same digit (nothing moved). */
function pass(from: Int32Array, to: Int32Array, keys: Uint32Array, shift: number): boolean {
  const count = new Int32Array(65537);
  for (let i = 0; i < from.length; i++) count[((keys[from[i]!]! >>> shift) & 0xffff) + 1]!++;
  for (let d = 1; d <= 65536; d++) if (count[d] === from.length) return false;
  for (let d = 1; d <= 65536; d++) count[d]! += count[d - 1]!;
  for (let i = 0; i < from.length; i++) {
    const id = from[i]!;
    to[count[(keys[id]! >>> shift) & 0xffff]!++] = id;
  }
  return true;
}

/** The ids of `interner` in ascending order of their bytes: `order[rank]` is the id of rank `rank`. */
export function byteOrder(interner: ByteInterner): Int32Array {
  const { bytes, starts, used } = interner.arena;
  return sortedByBytes(bytes, starts, interner.size, used);
}

/**
 * The order of `n` byte strings (string `i` is `bytes[starts[i], starts[i + 1])`, the last one
 * ending at `used`), ascending, stable: `order[rank]` is the string of rank `rank`, and equal
 * strings keep their order. A radix sort on the first eight bytes (four 16-bit passes, skipping
 * digits every key shares), then a stable comparison sort of each run sharing those bytes.
 */
export function sortedByBytes(bytes: Uint8Array, starts: Int32Array, n: number, used: number): Int32Array {
  const end = (id: number) => (id + 1 < n ? starts[id + 1]! : used);
  const k0 = new Uint32Array(n);
  const k1 = new Uint32Array(n);
  for (let id = 0; id < n; id++) {
    const s = starts[id]!;
    const e = end(id);
    k0[id] = word(bytes, s, e, 0);
    k1[id] = word(bytes, s, e, 4);
  }
  let order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let spare = new Int32Array(n);
  for (const [keys, shift] of [
    [k1, 0],
    [k1, 16],
    [k0, 0],
    [k0, 16],
  ] as const) {
    if (pass(order, spare, keys, shift)) [order, spare] = [spare, order];
  }
  // Runs of ids sharing their first eight bytes: ordered by the rest (and by length).
  const view = (id: number) => bytes.subarray(starts[id]!, end(id));
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && k0[order[j]!] === k0[order[i]!] && k1[order[j]!] === k1[order[i]!]) j++;
    if (j - i > 1) {
      const run = Array.from(order.subarray(i, j)).sort((a, b) => compareBytes(view(a), view(b)));
      order.set(run, i);
    }
    i = j;
  }
  return order;
}
