import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CatalogIndex,
  loadCatalog,
  mergeRanges,
  parseStreamsHeader,
  rangeReadStart,
  scanStreamsFast,
  scanStreamsRange,
} from "../src/index.js";
import { memoryFile } from "./helpers.js";

const SONGS =
  "track_id,track_name,track_genre,duration_ms\nt1,One,pop,1000\nt2,Two,rock,2000\nté,É,métal,3000\nt😀,E,🎸,4000\n";
const USERS = "user_id,user_name\nu1,a\nu2,b\nü,c\nu😀,d\n";
const USER_IDS = ["u1", "u2", "ü", "u😀", "u9", ""];
const TRACK_IDS = ["t1", "t2", "té", "t😀", "t9", " "];
const TIMES = [
  "2025-06-22 10:00:00",
  "2025-06-22T23:30:00-02:00",
  "2025-06-23 10:00:00.5",
  "2025-06-23 10:00:00.50",
  "bad",
  "2025-06-22 10:00:00",
];

const file = fc.record({
  rows: fc.array(
    fc.tuple(fc.constantFrom(...USER_IDS), fc.constantFrom(...TRACK_IDS), fc.constantFrom(...TIMES)),
    { minLength: 1, maxLength: 60 },
  ),
  repeats: fc.array(fc.nat(), { maxLength: 15 }),
  crlf: fc.boolean(),
  blank: fc.array(fc.nat(), { maxLength: 3 }),
  extra: fc.boolean(),
  cuts: fc.array(fc.integer({ min: 1, max: 999 }), { maxLength: 5 }),
  chunk: fc.constantFrom(1, 3, 16, 4096),
  trailing: fc.boolean(),
});

type FileValue = typeof file extends fc.Arbitrary<infer T> ? T : never;

function bytesOf(d: FileValue): Uint8Array {
  const rows = [...d.rows];
  for (const r of d.repeats) rows.push(rows[r % rows.length]!);
  const lines = rows.map((r) => (d.extra ? [...r, "x"] : r).join(","));
  for (const b of d.blank) lines.splice(1 + (b % lines.length), 0, "");
  const eol = d.crlf ? "\r\n" : "\n";
  const header = d.extra ? "user_id,track_id,listen_time,device" : "user_id,track_id,listen_time";
  return new TextEncoder().encode(`${[header, ...lines].join(eol)}${d.trailing ? eol : ""}`);
}

function* chunks(bytes: Uint8Array, from: number, size: number) {
  for (let i = from; i < bytes.length; i += size) yield bytes.subarray(i, Math.min(bytes.length, i + size));
}

describe("byte ranges of a streams file", () => {
  it("scanned apart and merged give exactly the whole-file report and KPIs", async () => {
    const { catalog } = await loadCatalog({
      songs: [memoryFile("s.csv", SONGS)],
      users: [memoryFile("u.csv", USERS)],
    });
    const index = new CatalogIndex(catalog);
    await fc.assert(
      fc.asyncProperty(file, async (d) => {
        const bytes = bytesOf(d);
        const whole = await scanStreamsFast(chunks(bytes, 0, d.chunk), "f.csv", index, { maxBadRowShare: 1 });
        const cuts = [...new Set(d.cuts.map((c) => Math.floor((c / 1000) * bytes.length)))]
          .filter((c) => c > 0)
          .sort((a, b) => a - b);
        const bounds = [0, ...cuts, bytes.length];
        const header = parseStreamsHeader(new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(10))));
        const results = [];
        for (let i = 0; i + 1 < bounds.length; i++) {
          const span = { start: bounds[i]!, end: bounds[i + 1]! };
          results.push(
            await scanStreamsRange(
              chunks(bytes, rangeReadStart(span), d.chunk),
              "f.csv",
              index,
              span,
              i === 0 ? undefined : header,
              { maxBadRowShare: 1 },
            ),
          );
        }
        const merged = mergeRanges("f.csv", index, results, { maxBadRowShare: 1 });
        expect(merged.report).toEqual(whole.report);
        expect(merged.compact.finalize()).toEqual(whole.compact.finalize());
      }),
      { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 300) },
    );
  });
});
