import { describe, expect, it } from "vitest";
import {
  compareCodePoints,
  KpiAccumulator,
  KpiOverflowError,
  PartialFormatError,
  type Track,
} from "../src/index.js";

const track = (trackId: string, genre: string, durationMs = 1000, name = `name-${trackId}`): Track => ({
  trackId,
  name,
  genre,
  durationMs,
});

function listens(acc: KpiAccumulator, date: string, t: Track, users: string[]): void {
  for (const user of users) acc.add(date, user, t);
}

describe("genre stats", () => {
  it("counts listens, distinct listeners, total time and the unrounded average per listener", () => {
    const acc = new KpiAccumulator();
    listens(acc, "2025-06-22", track("a", "pop", 1000), ["u1", "u1", "u2"]);
    listens(acc, "2025-06-22", track("b", "pop", 333), ["u3"]);
    expect(acc.finalize().genreStats).toEqual([
      {
        listenDate: "2025-06-22",
        genre: "pop",
        listenCount: 4,
        uniqueListeners: 3,
        totalListeningTimeMs: 3333,
        avgListeningTimePerUserMs: 1111,
      },
    ]);
    const acc2 = new KpiAccumulator();
    listens(acc2, "2025-06-22", track("a", "pop", 1000), ["u1", "u2", "u3"]);
    listens(acc2, "2025-06-22", track("b", "pop", 1), ["u1"]);
    expect(acc2.finalize().genreStats[0]?.avgListeningTimePerUserMs).toBe(3001 / 3);
  });

  it("keeps dates and genres apart and sorts them", () => {
    const acc = new KpiAccumulator();
    acc.add("2025-06-23", "u", track("a", "rock"));
    acc.add("2025-06-22", "u", track("b", "rock"));
    acc.add("2025-06-22", "u", track("c", "pop"));
    expect(acc.finalize().genreStats.map((g) => `${g.listenDate}/${g.genre}`)).toEqual([
      "2025-06-22/pop",
      "2025-06-22/rock",
      "2025-06-23/rock",
    ]);
    expect(acc.dates()).toEqual(["2025-06-22", "2025-06-23"]);
  });
});

describe("top songs", () => {
  it("keeps the 3 most listened tracks, ties broken by track_id ascending", () => {
    const acc = new KpiAccumulator();
    listens(acc, "d", track("t9", "pop"), ["u", "u", "u"]);
    for (const id of ["t5", "t2", "t7", "t3"]) listens(acc, "d", track(id, "pop"), ["u", "u"]);
    expect(acc.finalize().topSongs.map((s) => [s.rank, s.trackId, s.listenCount])).toEqual([
      [1, "t9", 3],
      [2, "t2", 2],
      [3, "t3", 2],
    ]);
  });

  it("groups by track_id, not by name", () => {
    const acc = new KpiAccumulator();
    listens(acc, "d", track("a", "pop", 1, "Same Name"), ["u1", "u2"]);
    listens(acc, "d", track("b", "pop", 1, "Same Name"), ["u3"]);
    expect(acc.finalize().topSongs.map((s) => [s.trackId, s.trackName, s.listenCount])).toEqual([
      ["a", "Same Name", 2],
      ["b", "Same Name", 1],
    ]);
  });

  it("lists exactly as many as there are, when fewer than 3", () => {
    const acc = new KpiAccumulator();
    acc.add("d", "u", track("a", "pop"));
    expect(acc.finalize().topSongs).toHaveLength(1);
  });

  it("carries artists when the catalog has them", () => {
    const acc = new KpiAccumulator();
    acc.add("d", "u", { ...track("a", "pop"), artists: "X;Y" });
    expect(acc.finalize().topSongs[0]?.artists).toBe("X;Y");
  });
});

describe("top genres", () => {
  it("keeps the 5 most listened genres per day, ties broken by genre ascending", () => {
    const acc = new KpiAccumulator();
    const counts: Record<string, number> = {
      jazz: 5,
      pop: 3,
      rock: 3,
      blues: 3,
      ambient: 1,
      metal: 3,
      soul: 3,
    };
    for (const [genre, k] of Object.entries(counts))
      listens(acc, "d", track(`t-${genre}`, genre), Array(k).fill("u"));
    expect(acc.finalize().topGenres.map((g) => [g.rank, g.genre, g.listenCount])).toEqual([
      [1, "jazz", 5],
      [2, "blues", 3],
      [3, "metal", 3],
      [4, "pop", 3],
      [5, "rock", 3],
    ]);
  });

  it("orders ties by code point, so characters above U+FFFF come after U+E000..U+FFFF", () => {
    const acc = new KpiAccumulator();
    for (const genre of ["🎸rock", "\uff21", "z", "é"]) acc.add("d", "u", track(genre, genre));
    expect(acc.finalize().topGenres.map((g) => g.genre)).toEqual(["z", "é", "\uff21", "🎸rock"]);
    expect(["🎸", "\uff21"].sort()).toEqual(["🎸", "\uff21"]); // what UTF-16 order would give
    expect(compareCodePoints("🎸", "\uff21")).toBeGreaterThan(0);
  });
});

describe("merge, state and pick", () => {
  const build = (rows: [string, string, string, string][]) => {
    const acc = new KpiAccumulator();
    for (const [date, user, id, genre] of rows) acc.add(date, user, track(id, genre, id.length * 100));
    return acc;
  };

  it("merging gives the same KPIs as adding every row to one accumulator", () => {
    const a = build([
      ["d1", "u1", "t1", "pop"],
      ["d1", "u2", "t2", "pop"],
    ]);
    const b = build([
      ["d1", "u1", "t1", "pop"],
      ["d2", "u3", "t1", "pop"],
    ]);
    const all = build([
      ["d1", "u1", "t1", "pop"],
      ["d1", "u2", "t2", "pop"],
      ["d1", "u1", "t1", "pop"],
      ["d2", "u3", "t1", "pop"],
    ]);
    expect(KpiAccumulator.merge([a, b]).finalize()).toEqual(all.finalize());
    expect(KpiAccumulator.merge([a, b]).finalize().genreStats[0]?.uniqueListeners).toBe(2);
  });

  it("does not change the accumulator merged in", () => {
    const a = build([["d1", "u1", "t1", "pop"]]);
    const b = build([["d1", "u2", "t1", "pop"]]);
    const before = b.toState();
    a.merge(b);
    a.add("d1", "u9", track("t1", "pop"));
    expect(b.toState()).toEqual(before);
  });

  it("round-trips its state through JSON", () => {
    const a = build([
      ["d1", "u1", "t1", "pop"],
      ["d2", "ü", "t🎸", "metal"],
    ]);
    const back = KpiAccumulator.fromState(JSON.parse(JSON.stringify(a.toState())));
    expect(back.toState()).toEqual(a.toState());
    expect(back.finalize()).toEqual(a.finalize());
  });

  it("refuses a state of another version or shape with a typed error", () => {
    const state = build([["d1", "u1", "t1", "pop"]]).toState();
    expect(() => KpiAccumulator.fromState({ ...state, version: 2 })).toThrow(/version 2 is not supported/);
    expect(() =>
      KpiAccumulator.fromState({
        ...state,
        days: [
          { date: "d1", genres: [{ genre: "pop", listens: -1, totalMs: 0, listeners: [], tracks: [] }] },
        ],
      }),
    ).toThrow(PartialFormatError);
    expect(() => KpiAccumulator.fromState({ ...state, tracks: [] })).toThrow(/track t1 has no label/);
    expect(() => KpiAccumulator.fromState("nope")).toThrow(PartialFormatError);
  });

  it("picks the dates asked for", () => {
    const a = build([
      ["d1", "u1", "t1", "pop"],
      ["d2", "u2", "t22", "rock"],
    ]);
    const d2 = a.pick(["d2", "d3"]);
    expect(d2.dates()).toEqual(["d2"]);
    expect(d2.toState().tracks.map((t) => t[0])).toEqual(["t22"]);
    expect(a.dates()).toEqual(["d1", "d2"]);
  });

  it("chooses a track's label independently of merge order when two partials disagree", () => {
    const a = new KpiAccumulator();
    a.add("d", "u", track("t", "pop", 1, "Beta"));
    const b = new KpiAccumulator();
    b.add("d", "u", track("t", "pop", 1, "Alpha"));
    expect(KpiAccumulator.merge([a, b]).toState()).toEqual(KpiAccumulator.merge([b, a]).toState());
    expect(KpiAccumulator.merge([a, b]).finalize().topSongs[0]?.trackName).toBe("Alpha");
  });

  it("throws KpiOverflowError instead of losing precision", () => {
    const big = (n: number) =>
      KpiAccumulator.fromState({
        format: "musicpipe.kpi-partial",
        version: 1,
        tracks: [["t", "n", null]],
        days: [
          {
            date: "2025-06-22",
            genres: [{ genre: "pop", listens: n, totalMs: n, listeners: ["u"], tracks: [["t", n]] }],
          },
        ],
      });
    expect(() => big(Number.MAX_SAFE_INTEGER - 1).merge(big(5))).toThrow(KpiOverflowError);
  });
});
