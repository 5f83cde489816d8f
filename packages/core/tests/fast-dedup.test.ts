import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteInterner, DuplicateFilter } from "../src/index.js";

// Seconds around window edges (128 s), before 1970, and past 2^32.
const SECONDS = [0, 1, 127, 128, 129, -1, -128, -129, 1_750_000_000, 1_750_000_127, 2 ** 32 + 5, 2 ** 40 + 1];

const triple = fc.tuple(
  fc.integer({ min: 0, max: 5 }),
  fc.integer({ min: 0, max: 5 }),
  fc.oneof(fc.constantFrom(...SECONDS), fc.integer({ min: 1_750_000_000, max: 1_750_000_600 })),
);

const sequence = fc.record({
  keys: fc.array(triple, { maxLength: 400 }),
  // Time order is the cheap case: sort some inputs, wholly or in part.
  sorted: fc.constantFrom("no", "yes", "prefix"),
});

function arrange(d: { keys: [number, number, number][]; sorted: string }): [number, number, number][] {
  const keys = [...d.keys];
  const bySecond = (a: [number, number, number], b: [number, number, number]) => a[2] - b[2];
  if (d.sorted === "yes") keys.sort(bySecond);
  if (d.sorted === "prefix")
    return [...keys.slice(0, keys.length >> 1).sort(bySecond), ...keys.slice(keys.length >> 1)];
  return keys;
}

describe("DuplicateFilter", () => {
  it("answers exactly like a set of strings, in any order, and lists every key once", () => {
    const filter = new DuplicateFilter();
    fc.assert(
      fc.property(sequence, (d) => {
        // One filter for every run: clear() must forget everything of the previous run.
        filter.clear();
        const naive = new Set<string>();
        for (const [user, track, second] of arrange(d)) {
          const key = `${user}:${track}:${second}`;
          expect(filter.add(user, track, second)).toBe(!naive.has(key));
          naive.add(key);
        }
        expect(filter.size).toBe(naive.size);
        const keys = filter.keys();
        const listed: string[] = [];
        for (let at = 0; at < keys.length; at += 4) {
          if (keys[at + 1] === 0) continue;
          listed.push(`${keys[at]}:${keys[at + 1]! - 1}:${keys[at + 3]! * 2 ** 32 + (keys[at + 2]! >>> 0)}`);
        }
        expect(listed.sort()).toEqual([...naive].sort());
      }),
      { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 300) },
    );
  });

  it("widens its windows for sparse rows and stays exact", () => {
    const filter = new DuplicateFilter();
    // 40,000 rows two minutes apart (about 55 days), then every one again, then new ones.
    const second = (i: number) => 1_750_000_000 + i * 120;
    for (let i = 0; i < 40_000; i++) expect(filter.add(i % 50, i % 7, second(i))).toBe(true);
    expect(filter.windowSeconds).toBeGreaterThan(128);
    // A window per key would be 40,000 windows; widened, they hold 16 keys or more on average.
    expect(filter.windows * 16).toBeLessThanOrEqual(filter.size + 16 * 1024);
    for (let i = 0; i < 40_000; i++) expect(filter.add(i % 50, i % 7, second(i))).toBe(false);
    for (let i = 0; i < 1000; i++) expect(filter.add(i % 50, 8, second(i))).toBe(true);
    expect(filter.size).toBe(41_000);
    expect(filter.keys().length).toBe(41_000 * 4);
    filter.clear();
    expect(filter.windowSeconds).toBe(128);
    expect(filter.add(1, 1, second(1))).toBe(true);
  });

  it("stays exact when one second holds many rows (its window's set grows)", () => {
    const filter = new DuplicateFilter();
    for (let user = 0; user < 5000; user++) expect(filter.add(user, 7, 1_750_000_000)).toBe(true);
    for (let user = 0; user < 5000; user++) expect(filter.add(user, 7, 1_750_000_000)).toBe(false);
    expect(filter.add(5000, 7, 1_750_000_000)).toBe(true);
    expect(filter.size).toBe(5001);
  });
});

describe("ByteInterner", () => {
  it("finds every interned key (lengths 0 to 40, any bytes) and nothing else", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ maxLength: 40 }), {
          selector: (b) => Buffer.from(b).toString("hex"),
          maxLength: 300,
        }),
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 50 }),
        fc.nat({ max: 7 }),
        (keys, probes, offset) => {
          const interner = new ByteInterner();
          for (const [i, key] of keys.entries()) expect(interner.intern(key)).toBe(i);
          const known = new Map(keys.map((k, i) => [Buffer.from(k).toString("hex"), i]));
          for (const probe of [...keys, ...probes]) {
            // The key at an arbitrary offset of a larger buffer, as a row's field lies.
            const buffer = new Uint8Array(offset + probe.length + 3).fill(0xaa);
            buffer.set(probe, offset);
            const expected = known.get(Buffer.from(probe).toString("hex")) ?? -1;
            expect(interner.find(buffer, offset, offset + probe.length)).toBe(expected);
          }
          expect(interner.size).toBe(keys.length);
        },
      ),
      { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 300) },
    );
  });
});
