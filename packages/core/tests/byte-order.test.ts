import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareBytes, sortWindows } from "../src/fast/byte-order.js";

/** The strings packed as the sort reads them: one byte array, and where each string starts. */
function packed(strings: readonly Uint8Array[]): { bytes: Uint8Array; starts: Int32Array; used: number } {
  const starts = new Int32Array(strings.length + 1);
  let used = 0;
  for (let i = 0; i < strings.length; i++) {
    starts[i] = used;
    used += strings[i]!.length;
  }
  starts[strings.length] = used;
  const bytes = new Uint8Array(used);
  strings.forEach((s, i) => {
    bytes.set(s, starts[i]!);
  });
  return { bytes, starts, used };
}

/** The expected order: by bytes, equal strings by position (a stable sort). */
function expected(strings: readonly Uint8Array[]): number[] {
  return strings.map((_, i) => i).sort((a, b) => compareBytes(strings[a]!, strings[b]!) || a - b);
}

function sorted(strings: readonly Uint8Array[]): number[] {
  const { bytes, starts, used } = packed(strings);
  return Array.from(sortWindows(bytes, starts, strings.length, used).order);
}

// Strings over few byte values (ties, zero bytes, prefixes of one another), often sharing a
// long prefix, so that runs tying on eight bytes and the shared-prefix skip are exercised.
const piece = fc
  .uint8Array({ minLength: 0, maxLength: 20 })
  .map((a) => a.map((b) => [0, 1, 2, 97, 255][b % 5]!));
const strings = fc
  .tuple(fc.constantFrom("", "user-", "user-000000", "a"), fc.array(piece, { maxLength: 120 }))
  .map(([prefix, pieces]) => {
    const head = new TextEncoder().encode(prefix);
    return pieces.map((p, i) => (i % 3 === 0 ? p : Uint8Array.from([...head, ...p])));
  });

describe("sortWindows", () => {
  it("orders byte strings like a stable comparison sort", () => {
    fc.assert(
      fc.property(strings, (list) => {
        expect(sorted(list)).toEqual(expected(list));
      }),
      { numRuns: 400 },
    );
  });

  it("orders runs longer than the comparison-sort cutoff that tie on many bytes", () => {
    // 300 strings sharing 30 bytes after a varying head, differing only near their ends,
    // with exact duplicates and strings that are prefixes of others.
    const list: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const tail = [(i * 7919) % 251, i % 3];
      list.push(Uint8Array.from([i % 2, ...new Array(30).fill(120), ...tail.slice(0, 1 + (i % 2))]));
    }
    list.push(list[5]!, list[17]!, Uint8Array.from([0, ...new Array(30).fill(120)]));
    expect(sorted(list)).toEqual(expected(list));
  });

  it("gives each string's eight bytes after the shared prefix, in rank order", () => {
    const list = ["user-0000012", "user-0000003", "user-1"].map((s) => new TextEncoder().encode(s));
    const { bytes, starts, used } = packed(list);
    const { order, hi, lo } = sortWindows(bytes, starts, list.length, used);
    expect(Array.from(order)).toEqual([1, 0, 2]);
    // The shared prefix is "user-": the windows are "0000003\\0", "0000012\\0", "1\\0\\0...".
    expect(hi[0]).toBe(0x30303030);
    expect(lo[0]).toBe(0x30303300);
    expect(hi[2]).toBe(0x31000000);
    expect(lo[2]).toBe(0);
  });

  it("sorts nothing and one string", () => {
    expect(sorted([])).toEqual([]);
    expect(sorted([Uint8Array.of(3)])).toEqual([0]);
  });
});
