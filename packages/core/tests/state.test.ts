import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BlobFormatError,
  CatalogIndex,
  computeKpis,
  KpiAccumulator,
  type KpiSet,
  loadCatalog,
  partialToState,
  scanStreamsFast,
} from "../src/index.js";
import { type CompiledCatalog, decodeCatalog, encodeCatalog } from "../src/state/catalog-blob.js";
import {
  absorb,
  type DayShard,
  decodeDayShard,
  encodeDayShard,
  type SourcePartial,
  summarize,
  unionOfSorted,
} from "../src/state/day-state.js";
import { dayKpis } from "../src/state/finalize.js";
import { decodePartialDay, encodePartials } from "../src/state/partial.js";
import { murmur3 } from "../src/state/shards.js";
import { memoryFile } from "./helpers.js";

const GENRES = ["pop", "rock", "jazz", "Électro", "k-pop"];
const TRACKS = Array.from({ length: 30 }, (_, t) => `t${String(t).padStart(2, "0")}`);
const USERS = Array.from({ length: 40 }, (_, u) => `user-${u}`);

function songsCsv(tracks: readonly string[]): string {
  return `track_id,track_name,track_genre,duration_ms,artists\n${tracks
    .map(
      (t) =>
        `${t},Name of ${t},${GENRES[Number(t.slice(1)) % GENRES.length]},${1000 + Number(t.slice(1))},A${t}`,
    )
    .join("\n")}\n`;
}

function usersCsv(users: readonly string[]): string {
  return `user_id,user_name\n${users.map((u) => `${u},Name`).join("\n")}\n`;
}

async function compile(tracks: readonly string[], users: readonly string[]): Promise<CompiledCatalog> {
  const { catalog, reports } = await loadCatalog({
    songs: [memoryFile("songs.csv", songsCsv(tracks))],
    users: [memoryFile("users.csv", usersCsv(users))],
  });
  return decodeCatalog(encodeCatalog(new CatalogIndex(catalog), reports).bytes);
}

const row = fc.record({
  day: fc.integer({ min: 0, max: 2 }),
  user: fc.constantFrom(...USERS),
  track: fc.constantFrom(...TRACKS),
  second: fc.integer({ min: 0, max: 86_399 }),
});
type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;

function streamsCsv(rows: readonly Row[]): string {
  const time = (r: Row) =>
    new Date(Date.UTC(2025, 5, 21 + r.day) + r.second * 1000).toISOString().slice(0, 19).replace("T", " ");
  return `user_id,track_id,listen_time\n${rows.map((r) => `${r.user},${r.track},${time(r)}`).join("\n")}\n`;
}

/** The partials of one file, by date. */
async function partialsOf(rows: readonly Row[], compiled: CompiledCatalog, shards: number, name: string) {
  const { report, compact } = await scanStreamsFast(
    [new TextEncoder().encode(streamsCsv(rows))],
    name,
    compiled.index,
    { maxBadRowShare: 1 },
  );
  expect(report.accepted).toBe(true);
  return encodePartials(compact, compiled, shards);
}

/** Absorbs the partials of a date into its shards, `batches` at a time, in the given order; then the date's KPIs. */
async function load(
  listenDate: string,
  blobs: readonly { fingerprint: string; bytes: Uint8Array }[],
  shards: number,
  batch: number,
  catalogs: Map<string, CompiledCatalog>,
): Promise<KpiSet | undefined> {
  const summaries = [];
  for (let shard = 0; shard < shards; shard++) {
    let state: DayShard | undefined;
    for (let i = 0; i < blobs.length; i += batch) {
      const parts: SourcePartial[] = blobs
        .slice(i, i + batch)
        .map((b) => ({ fingerprint: b.fingerprint, day: decodePartialDay(b.bytes, b.fingerprint, shard) }));
      const next = await absorb(state, parts, { listenDate, shard, shards }, async (d) => catalogs.get(d)!);
      if (next === undefined) continue;
      // Through its blob, as a store would keep it.
      const blob = encodeDayShard(next, summarize(next, catalogs.get(next.catalog)));
      state = decodeDayShard(blob).state;
    }
    if (state === undefined) return undefined;
    summaries.push(summarize(state, catalogs.get(state.catalog)));
  }
  return dayKpis(summaries);
}

const DATES = ["2025-06-21", "2025-06-22", "2025-06-23"];

function ofDate(kpis: KpiSet, listenDate: string): KpiSet {
  return {
    genreStats: kpis.genreStats.filter((g) => g.listenDate === listenDate),
    topSongs: kpis.topSongs.filter((g) => g.listenDate === listenDate),
    topGenres: kpis.topGenres.filter((g) => g.listenDate === listenDate),
  };
}

const fingerprint = (i: number) => i.toString(16).padStart(64, "0");

describe("day states", () => {
  it("give the KPIs of one batch computation, for any split into files, shard count, order and batching", async () => {
    const catalog = await compile(TRACKS, USERS);
    const catalogs = new Map([[catalog.digest, catalog]]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(row, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(1, 2, 3, 7),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (files, shards, batch, reverse) => {
          const expected = await computeKpis({
            streams: files.map((rows, i) => memoryFile(`f${i}.csv`, streamsCsv(rows))),
            songs: [memoryFile("songs.csv", songsCsv(TRACKS))],
            users: [memoryFile("users.csv", usersCsv(USERS))],
          });
          const perFile = await Promise.all(
            files.map((rows, i) => partialsOf(rows, catalog, shards, `f${i}`)),
          );
          for (const date of DATES) {
            const blobs = perFile.flatMap((m, i) =>
              m.has(date) ? [{ fingerprint: fingerprint(i), bytes: m.get(date)! }] : [],
            );
            if (reverse) blobs.reverse();
            const got = await load(date, blobs, shards, batch, catalogs);
            const want = ofDate(expected.kpis, date);
            if (want.genreStats.length === 0) expect(got).toBeUndefined();
            else expect(got).toEqual(want);
          }
        },
      ),
      { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 60) },
    );
  });

  it("count a partial whose fingerprint they include once, however often it comes", async () => {
    const catalog = await compile(TRACKS, USERS);
    const rows: Row[] = [
      { day: 0, user: "user-1", track: "t01", second: 10 },
      { day: 0, user: "user-2", track: "t01", second: 20 },
    ];
    const bytes = (await partialsOf(rows, catalog, 1, "a")).get("2025-06-21")!;
    const part = { fingerprint: fingerprint(1), day: decodePartialDay(bytes) };
    const target = { listenDate: "2025-06-21", shard: 0, shards: 1 };
    const once = await absorb(undefined, [part, part], target, async () => catalog);
    expect(once?.sources).toEqual([fingerprint(1)]);
    expect(await absorb(once, [part], target, async () => catalog)).toBeUndefined();
    const kpis = dayKpis([summarize(once!, catalog)]);
    expect(kpis?.genreStats).toEqual([
      expect.objectContaining({ listenCount: 2, uniqueListeners: 2, totalListeningTimeMs: 2002 }),
    ]);
  });

  it("stay exact when partials of a changed catalog arrive (tracks and users added and removed)", async () => {
    const before = await compile(TRACKS.slice(0, 20), USERS.slice(0, 30));
    const after = await compile(TRACKS.slice(10), USERS.slice(10));
    const catalogs = new Map([
      [before.digest, before],
      [after.digest, after],
    ]);
    const inBefore = fc.record({
      day: fc.constant(0),
      user: fc.constantFrom(...USERS.slice(0, 30)),
      track: fc.constantFrom(...TRACKS.slice(0, 20)),
      second: fc.integer({ min: 0, max: 86_399 }),
    });
    const inAfter = fc.record({
      day: fc.constant(0),
      user: fc.constantFrom(...USERS.slice(10)),
      track: fc.constantFrom(...TRACKS.slice(10)),
      second: fc.integer({ min: 0, max: 86_399 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(inBefore, { minLength: 1, maxLength: 30 }),
        fc.array(inAfter, { minLength: 1, maxLength: 30 }),
        fc.constantFrom(1, 3),
        fc.boolean(),
        async (a, b, shards, oldFirst) => {
          // The KPIs of all rows against one catalog that has every id (names are equal in both).
          const expected = await computeKpis({
            streams: [memoryFile("a.csv", streamsCsv(a)), memoryFile("b.csv", streamsCsv(b))],
            songs: [memoryFile("songs.csv", songsCsv(TRACKS))],
            users: [memoryFile("users.csv", usersCsv(USERS))],
          });
          const pa = (await partialsOf(a, before, shards, "a")).get("2025-06-21")!;
          const pb = (await partialsOf(b, after, shards, "b")).get("2025-06-21")!;
          const blobs = [
            { fingerprint: fingerprint(1), bytes: pa },
            { fingerprint: fingerprint(2), bytes: pb },
          ];
          if (!oldFirst) blobs.reverse();
          const got = await load("2025-06-21", blobs, shards, 1, catalogs);
          expect(got).toEqual(ofDate(expected.kpis, "2025-06-21"));
        },
      ),
      { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 60) },
    );
  });

  it("hash user ids to shards with MurmurHash3 (x86, 32-bit, seed 0)", () => {
    const enc = new TextEncoder();
    expect(murmur3(enc.encode(""))).toBe(0);
    expect(murmur3(enc.encode("hello"))).toBe(0x248bfa47);
    expect(murmur3(enc.encode("Hello, world!"))).toBe(0xc0363e43);
    expect(murmur3(enc.encode("The quick brown fox jumps over the lazy dog"))).toBe(0x2e4ff723);
  });
});

describe("compiled catalogs", () => {
  it("give back every id, name, artists, genre and duration, and the same bytes from the same catalog", async () => {
    const long = "x".repeat(300);
    const tracks = [
      ["t1", "One", "pop", "1", "A;B"],
      [`${long}a`, `Name ${"é".repeat(200)}`, "rock", "9007199254740991", ""],
      // A repeated id: the first row wins, this one's name and artists are left out.
      ["t1", "One again", "rock", "7", "C"],
      [`${long}b`, 'Two, quoted "name"', "pop", "0", undefined],
      ["🎸", "Guitar", "Électro", "42", "Ünïcode"],
    ] as const;
    const songs = `track_id,track_name,track_genre,duration_ms,artists\n${tracks
      .map((t) => [t[0], `"${t[1].replaceAll('"', '""')}"`, t[2], t[3], t[4] ?? ""].join(","))
      .join("\n")}\n`;
    const users = ["u1", `${long}1`, `${long}2`, "ü"];
    const { catalog, reports } = await loadCatalog({
      songs: [memoryFile("songs.csv", songs)],
      users: [memoryFile("users.csv", usersCsv(users))],
    });
    const index = new CatalogIndex(catalog);
    const { bytes, digest } = encodeCatalog(index, reports);
    const back = decodeCatalog(bytes);
    expect(back.digest).toBe(digest);
    expect(back.reports).toEqual(reports);
    expect([...back.catalog.tracks()]).toEqual([...catalog.tracks()]);
    expect([...back.catalog.users()]).toEqual([...catalog.users()]);
    expect(back.index.genres).toEqual(index.genres);
    expect(encodeCatalog(back.index, back.reports).bytes).toEqual(bytes);
    // The general reader's catalog compiles to the same bytes.
    const general = await loadCatalog(
      { songs: [memoryFile("songs.csv", songs)], users: [memoryFile("users.csv", usersCsv(users))] },
      { fastPath: false },
    );
    expect(encodeCatalog(new CatalogIndex(general.catalog), general.reports).bytes).toEqual(bytes);
  });

  it("refuse a damaged, foreign or future blob with BlobFormatError", async () => {
    const compiled = await compile(TRACKS, USERS);
    const { bytes } = encodeCatalog(compiled.index, compiled.reports);
    const damaged = bytes.slice();
    damaged[damaged.length - 3]! ^= 0x40;
    const future = bytes.slice();
    future[4] = 99;
    const partial = (
      await partialsOf([{ day: 0, user: "user-1", track: "t01", second: 1 }], compiled, 1, "p")
    ).get("2025-06-21")!;
    for (const [blob, message] of [
      [damaged, /checksum/],
      [future, /version 99 is not supported/],
      [partial, /a partial blob, not a catalog blob/],
      [new TextEncoder().encode("track_id,track_name\n"), /not a musicpipe catalog blob/],
      [bytes.subarray(0, bytes.length - 10), /bytes long/],
    ] as const) {
      expect(() => decodeCatalog(blob)).toThrow(BlobFormatError);
      expect(() => decodeCatalog(blob)).toThrow(message);
    }
  });
});

describe("partialToState", () => {
  it("reads a partial blob as the general accumulator's state, with the KPIs of the same rows", async () => {
    const catalog = await compile(TRACKS, USERS);
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        async (rows, shards) => {
          const blobs = await partialsOf(rows, catalog, shards, "s.csv");
          const expected = (
            await computeKpis(
              {
                streams: [memoryFile("s.csv", streamsCsv(rows))],
                songs: [memoryFile("songs.csv", songsCsv(TRACKS))],
                users: [memoryFile("users.csv", usersCsv(USERS))],
              },
              { maxBadRowShare: 1 },
            )
          ).kpis;
          for (const [listenDate, blob] of blobs) {
            const acc = KpiAccumulator.fromState(partialToState(blob, catalog));
            expect(acc.finalize()).toEqual(ofDate(expected, listenDate));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses a blob with another catalog than the one given", async () => {
    const catalog = await compile(TRACKS, USERS);
    const other = await compile(TRACKS.slice(0, 20), USERS);
    const rows: Row[] = [{ day: 1, user: USERS[0]!, track: TRACKS[0]!, second: 5 }];
    const blob = [...(await partialsOf(rows, catalog, 1, "s.csv")).values()][0]!;
    expect(() => partialToState(blob, other)).toThrow(BlobFormatError);
  });
});

describe("unionOfSorted", () => {
  it("gives the ascending union of ascending lists, dense (a bitmap) or sparse (a sort)", () => {
    const list = (max: number) =>
      fc
        .uniqueArray(fc.integer({ min: 0, max }), { maxLength: 40 })
        .map((a) => Int32Array.from(a.sort((x, y) => x - y)));
    for (const max of [50, 5_000_000]) {
      fc.assert(
        fc.property(fc.array(list(max), { maxLength: 6 }), (lists) => {
          const total = lists.reduce((n, l) => n + l.length, 0);
          const expected = [...new Set(lists.flatMap((l) => [...l]))].sort((a, b) => a - b);
          expect([...unionOfSorted(lists, total)]).toEqual(expected);
        }),
      );
    }
  });
});
