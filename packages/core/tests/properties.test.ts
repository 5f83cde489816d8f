import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeKpis, KpiAccumulator, type Track } from "../src/index.js";
import { memoryFile } from "./helpers.js";

// Few ids and dates, so ties and shared listeners are common.
const tracks: Track[] = ["t1", "t2", "t3", "t4", "t5", "t6"].map((trackId, i) => ({
  trackId,
  name: `Song ${i}`,
  genre: ["pop", "rock", "jazz"][i % 3]!,
  durationMs: 1000 * (i + 1),
}));
const row = fc.record({
  date: fc.constantFrom("2025-06-21", "2025-06-22", "2025-06-23"),
  user: fc.constantFrom("u1", "u2", "u3", "u4"),
  track: fc.constantFrom(...tracks),
});
type Row = { date: string; user: string; track: Track };

function accumulate(rows: readonly Row[]): KpiAccumulator {
  const acc = new KpiAccumulator();
  for (const r of rows) acc.add(r.date, r.user, r.track);
  return acc;
}

/** Splits `rows` into consecutive parts at the given cut points. */
function split<T>(rows: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (rows.length + 1)))].sort((a, b) => a - b);
  const parts: T[][] = [];
  let start = 0;
  for (const p of [...points, rows.length]) {
    parts.push(rows.slice(start, p));
    start = p;
  }
  return parts;
}

describe("KPI partials (properties)", () => {
  it("merging per-file partials in any order equals one pass over all rows", () => {
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 120 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.func(fc.integer()),
        (rows, cuts, order) => {
          const parts = split(rows, cuts).map(accumulate);
          const shuffled = parts
            .map((p, i) => ({ p, key: order(i) }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.p);
          expect(KpiAccumulator.merge(shuffled).finalize()).toEqual(accumulate(rows).finalize());
        },
      ),
      { numRuns: 200 },
    );
  });

  it("merge is associative and commutative", () => {
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 40 }),
        fc.array(row, { maxLength: 40 }),
        fc.array(row, { maxLength: 40 }),
        (a, b, c) => {
          const [x, y, z] = [a, b, c].map(accumulate) as [KpiAccumulator, KpiAccumulator, KpiAccumulator];
          const left = KpiAccumulator.merge([KpiAccumulator.merge([x, y]), z]).toState();
          const right = KpiAccumulator.merge([x, KpiAccumulator.merge([y, z])]).toState();
          expect(left).toEqual(right);
          expect(KpiAccumulator.merge([x, y]).toState()).toEqual(KpiAccumulator.merge([y, x]).toState());
        },
      ),
      { numRuns: 200 },
    );
  });

  it("serialize then deserialize gives back the same state and KPIs", () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 80 }), (rows) => {
        const acc = accumulate(rows);
        const back = KpiAccumulator.fromState(JSON.parse(JSON.stringify(acc.toState())));
        expect(back.toState()).toEqual(acc.toState());
        expect(back.finalize()).toEqual(acc.finalize());
      }),
      { numRuns: 200 },
    );
  });

  it("splitting distinct stream rows into CSV files, in any order, never changes the KPIs", async () => {
    const songs = memoryFile(
      "songs.csv",
      `track_id,track_name,track_genre,duration_ms\n${tracks.map((t) => `${t.trackId},${t.name},${t.genre},${t.durationMs}`).join("\n")}\n`,
    );
    const users = memoryFile("users.csv", "user_id,user_name\nu1,A\nu2,B\nu3,C\nu4,D\n");
    const csvRow = fc.record({
      user: fc.constantFrom("u1", "u2", "u3", "u4"),
      track: fc.constantFrom(...tracks.map((t) => t.trackId)),
      second: fc.integer({ min: 0, max: 3 * 86400 - 1 }),
      offset: fc.constantFrom("", "Z", "+02:00", "-05:30"),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(csvRow, { maxLength: 60, selector: (r) => `${r.user}/${r.track}/${r.second}` }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.boolean(),
        async (rows, cuts, reverse) => {
          const text = (part: typeof rows) =>
            `user_id,track_id,listen_time\n${part.map((r) => `${r.user},${r.track},${timeOf(r.second, r.offset)}`).join("\n")}\n`;
          const parts = split(rows, cuts).filter((p) => p.length > 0);
          const files = parts.map((p, i) => memoryFile(`s${i}.csv`, text(p), 7));
          if (reverse) files.reverse();
          const together = await computeKpis({
            streams: [memoryFile("all.csv", text(rows))],
            songs: [songs],
            users: [users],
          });
          const apart = await computeKpis({ streams: files, songs: [songs], users: [users] });
          expect(apart.kpis).toEqual(together.kpis);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** A listen time `second` seconds after 2025-06-21T00:00Z, written in local time at `offset`. */
function timeOf(second: number, offset: string): string {
  const minutes =
    offset === "" || offset === "Z"
      ? 0
      : (offset[0] === "-" ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4)));
  const local = new Date(Date.UTC(2025, 5, 21) + second * 1000 + minutes * 60_000).toISOString().slice(0, 19);
  return offset === "" ? local.replace("T", " ") : `${local}${offset}`;
}
