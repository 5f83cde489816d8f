import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteInterner } from "../src/index.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Distinct keys as they lie in a file (key `j` is `bytes[starts[j], starts[j + 1])`, in file
 * order or in byte order already), and their byte order: the order a lazy interner's ids have.
 */
const keysInOrder = fc
  .record({
    keys: fc.uniqueArray(fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }), { maxLength: 60 }),
    presorted: fc.boolean(),
  })
  .map(({ keys, presorted }) => {
    const bytesOf = (k: string) => Buffer.from(k, "utf8");
    const laid = presorted ? [...keys].sort((a, b) => Buffer.compare(bytesOf(a), bytesOf(b))) : keys;
    const order = laid.map((_, j) => j).sort((a, b) => Buffer.compare(bytesOf(laid[a]!), bytesOf(laid[b]!)));
    return { keys: laid, order };
  });

function laidOut(keys: string[]): { bytes: Uint8Array; starts: Int32Array } {
  const parts = keys.map((k) => encoder.encode(k));
  const starts = new Int32Array(parts.length + 1);
  for (let j = 0; j < parts.length; j++) starts[j + 1] = starts[j]! + parts[j]!.length;
  const bytes = new Uint8Array(starts[parts.length]!);
  for (const [j, p] of parts.entries()) bytes.set(p, starts[j]!);
  return { bytes, starts };
}

/** What a caller sees of an interner: the key of each id, and the id each key (and a stranger) is found at. */
function seen(interner: ByteInterner, keys: string[]) {
  const ids = Array.from({ length: interner.size }, (_, i) => decoder.decode(interner.bytesOf(i)));
  const found = [...keys, "not a key \u0000"].map((k) => {
    const b = encoder.encode(k);
    return interner.find(b, 0, b.length);
  });
  return { ids, found };
}

describe("ByteInterner.fromDistinct", () => {
  it("a lazy interner (keys left where they lie) answers as the one that copies them, before and after its table is built, moved or extended", () => {
    fc.assert(
      fc.property(keysInOrder, fc.string({ maxLength: 12 }), ({ keys, order }, extra) => {
        const { bytes, starts } = laidOut(keys);
        const ord = Int32Array.from(order);
        const copied = ByteInterner.fromDistinct(bytes.slice(), starts.slice(), ord);
        const expected = seen(copied, keys);
        expect(expected.ids).toEqual(order.map((j) => keys[j]));

        const lazy = () => ByteInterner.fromDistinct(bytes.slice(), starts.slice(), ord, { lazy: true });
        expect(seen(lazy(), keys)).toEqual(expected);
        // Sent to another thread (the transferred state) and back.
        expect(seen(ByteInterner.fromTransfer(lazy().toTransfer()), keys)).toEqual(expected);
        // Shared with scanning threads (lookups only).
        const shared = ByteInterner.fromShared(lazy().toShared());
        expect(seen(shared, keys).found).toEqual(expected.found);
        // The arena in id order, one key after another.
        const { bytes: arena, starts: at, used } = lazy().arena;
        const fromArena = order.map((_, i) =>
          decoder.decode(arena.subarray(at[i]!, i + 1 < order.length ? at[i + 1]! : used)),
        );
        expect(fromArena).toEqual(expected.ids);
        // An addition: a new key gets the next id, a known one keeps its own.
        const grown = lazy();
        const b = encoder.encode(extra);
        const id = grown.intern(b);
        const known = keys.indexOf(extra);
        expect(id).toBe(known === -1 ? keys.length : order.indexOf(known));
        expect(seen(grown, [...keys, extra]).found.slice(0, keys.length)).toEqual(
          expected.found.slice(0, -1),
        );
        // Its table built where the keys lie (for threads), then an addition moves them.
        const built = lazy();
        built.toShared();
        built.intern(b);
        expect(seen(built, keys).found).toEqual(seen(grown, keys).found);
        // Renumbered backwards: id i becomes id n - 1 - i.
        const reversed = lazy();
        reversed.renumber(Int32Array.from(order.map((_, i) => order.length - 1 - i)));
        expect(seen(reversed, keys).ids).toEqual([...expected.ids].reverse());
      }),
    );
  });
});
