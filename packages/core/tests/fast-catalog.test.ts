import fc from "fast-check";
import { describe, expect, it, onTestFinished } from "vitest";
import { structuralScanner, useStructuralScanner } from "../src/fast/structural.js";
import {
  type Catalog,
  CatalogIndex,
  compareCodePoints,
  FastPathUnsupported,
  loadCatalog,
  scanCatalogFast,
} from "../src/index.js";
import { gzipFile, memoryFile } from "./helpers.js";

const VALUES = [
  "t1",
  "t2",
  " t1",
  "",
  "  ",
  "\u00a0",
  "Hello, World",
  'Say "hi"',
  "line1\nline2",
  "crlf\r\nx",
  "é🎸",
  "pop",
  "42",
  "1e3",
  "-0.5",
  "180000",
  "+5",
  "1.5",
  "-3",
  "00",
  "x,y",
  "lone\rcr",
];
const field = fc.constantFrom(...VALUES);

function quote(v: string, always: boolean): string {
  return always || /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

const songsFile = fc.record({
  rows: fc.array(fc.array(field, { minLength: 4, maxLength: 6 }), { minLength: 1, maxLength: 40 }),
  blank: fc.array(fc.nat(), { maxLength: 3 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  quoteAll: fc.boolean(),
  artists: fc.boolean(),
  trailingNewline: fc.boolean(),
  chunk: fc.constantFrom(1, 2, 5, 64),
  share: fc.constantFrom(0.1, 1),
  /** A size given for the file, as a multiple of its true size. */
  sizeHint: fc.constantFrom(0, 0.5, 1, 3, 40, Number.POSITIVE_INFINITY, Number.NaN),
});

type SongsFile = typeof songsFile extends fc.Arbitrary<infer T> ? T : never;

function text(d: SongsFile, header: string[]): string {
  const eol = d.crlf ? "\r\n" : "\n";
  const lines = d.rows.map((r) =>
    r
      .slice(0, header.length + (r.length > 5 ? 1 : 0))
      .map((v) => quote(v, d.quoteAll))
      .join(","),
  );
  for (const b of d.blank) lines.splice(b % (lines.length + 1), 0, b % 2 === 0 ? "" : " , ");
  return `${d.bom ? "\ufeff" : ""}${[header.map((h) => quote(h, d.quoteAll)).join(","), ...lines].join(eol)}${d.trailingNewline ? eol : ""}`;
}

const encoder = new TextEncoder();

/**
 * A CatalogIndex of the catalog numbers its ids in code point order, finds every id at its own
 * number, and the catalog then lists its entries in that order.
 */
function expectIndexed(catalog: Catalog): void {
  const index = new CatalogIndex(catalog);
  const trackIds = Array.from({ length: index.trackCount }, (_, t) => index.trackId(t));
  const userIds = Array.from({ length: index.userCount }, (_, u) => index.userId(u));
  expect(trackIds).toEqual([...catalog.tracks()].map((t) => t.trackId));
  expect(userIds).toEqual([...catalog.users()]);
  expect(trackIds).toEqual([...trackIds].sort(compareCodePoints));
  expect(userIds).toEqual([...userIds].sort(compareCodePoints));
  for (const [i, id] of trackIds.entries())
    expect(index.tracks.find(encoder.encode(id), 0, encoder.encode(id).length)).toBe(i);
  for (const [i, id] of userIds.entries())
    expect(index.users.find(encoder.encode(id), 0, encoder.encode(id).length)).toBe(i);
  expect(index.tracks.find(encoder.encode("not an id"), 0, 9)).toBe(-1);
}

function contents(catalog: Catalog) {
  return { tracks: [...catalog.tracks()], users: [...catalog.users()] };
}

describe("the fast catalog reader", () => {
  // The lane over the structural bytes the WebAssembly scanner finds, and the lane over every
  // byte that runs where WebAssembly SIMD is missing.
  it.each(["structural", "bytewise"])(
    "reads songs and users files exactly like the general reader (%s lane)",
    async (lane) => {
      useStructuralScanner(lane === "structural");
      onTestFinished(() => useStructuralScanner(true));
      let fastUsed = 0;
      await fc.assert(
        fc.asyncProperty(songsFile, songsFile, fc.boolean(), async (s, u, gz) => {
          const songHeader = s.artists
            ? ["track_id", "track_name", "track_genre", "duration_ms", "artists"]
            : ["duration_ms", "track_genre", "track_id", "track_name"];
          const songs = text(s, songHeader);
          const users = text(u, ["user_id", "user_name", "x", "y"]);
          const input = {
            songs: [gz ? gzipFile("songs.csv.gz", songs, s.chunk) : memoryFile("songs.csv", songs, s.chunk)],
            users: [memoryFile("users.csv", users, u.chunk)],
          };
          const general = await loadCatalog(input, { fastPath: false, maxBadRowShare: s.share });
          const fast = await loadCatalog(input, { maxBadRowShare: s.share });
          expect(fast.reports).toEqual(general.reports);
          expect(contents(fast.catalog)).toEqual(contents(general.catalog));
          // The index takes the ids the fast reader interned (the general one re-interns them).
          expectIndexed(fast.catalog);
          expectIndexed(general.catalog);
          const used = await scanCatalogFast(await input.songs[0]!.open(), "songs.csv", "songs").then(
            () => true,
            (err) => {
              if (!(err instanceof FastPathUnsupported)) throw err;
              return false;
            },
          );
          if (used) fastUsed++;
          // Told a size (right, or far off), the reader sizes its tables from it: same result.
          const bytes = new TextEncoder().encode(songs).length;
          const sized = await loadCatalog(
            {
              songs: [{ ...input.songs[0]!, size: Math.round(bytes * s.sizeHint) }],
              users: [{ ...input.users[0]!, size: Math.round(bytes * u.sizeHint) }],
            },
            { maxBadRowShare: s.share },
          );
          expect(sized.reports).toEqual(fast.reports);
          expect(contents(sized.catalog)).toEqual(contents(fast.catalog));
        }),
        { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 400) },
      );
      expect(fastUsed).toBeGreaterThan(200);
    },
  );

  it("indexes a catalog made of several files, in key order, first occurrence winning", async () => {
    await fc.assert(
      fc.asyncProperty(songsFile, songsFile, songsFile, async (a, b, u) => {
        const header = ["track_id", "track_name", "track_genre", "duration_ms"];
        const input = {
          songs: [
            memoryFile("b.csv", text(b, header), b.chunk),
            memoryFile("a.csv", text(a, header), a.chunk),
          ],
          users: [memoryFile("u1.csv", text(u, ["user_id"]), u.chunk), memoryFile("u2.csv", "user_id\nz1\n")],
        };
        const fast = await loadCatalog(input);
        const general = await loadCatalog(input, { fastPath: false });
        expect(contents(fast.catalog)).toEqual(contents(general.catalog));
        expectIndexed(fast.catalog);
      }),
      { numRuns: Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 100) },
    );
  });
});

describe("the fast catalog reader, given a whole file as one array", () => {
  it("reads it in pieces as it reads small chunks, quoted line breaks and CRLF across pieces included", async () => {
    const rows: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      const name = i % 97 === 0 ? `"Song, ""${i}""\nlive"` : `Song ${i}`;
      const artists = i % 13 === 0 ? `"A, B ${i}"` : `Artist ${i % 500}`;
      rows.push(`t${(i * 7919) % 60_000},${name},genre${i % 40},${180_000 + i},${artists}`);
    }
    for (const eol of ["\n", "\r\n"]) {
      const text = `track_id,track_name,track_genre,duration_ms,artists${eol}${rows.join(eol)}${eol}`;
      expect(text.length).toBeGreaterThan(2 * 1024 * 1024);
      const users = memoryFile("users.csv", "user_id,user_name\nu1,A\n");
      const whole = await loadCatalog({
        songs: [memoryFile("songs.csv", text, text.length)],
        users: [users],
      });
      const small = await loadCatalog({ songs: [memoryFile("songs.csv", text, 4096)], users: [users] });
      const general = await loadCatalog(
        { songs: [memoryFile("songs.csv", text, 4096)], users: [users] },
        { fastPath: false },
      );
      expect(whole.reports).toEqual(general.reports);
      expect(small.reports).toEqual(general.reports);
      expect(contents(whole.catalog)).toEqual(contents(general.catalog));
      expect(contents(small.catalog)).toEqual(contents(general.catalog));
      expect(whole.reports[0]!.rowsKept).toBe(60_000);
      // Read in pieces of 1 MiB: the scanner's memory is sized for a piece, not the array.
      expect(structuralScanner()!.memoryBytes).toBeLessThan(12 * 1024 * 1024);
    }
  });
});

describe("a catalog of several songs files", () => {
  it("keeps every track's name and artists when a later file adds tracks to the first one's", async () => {
    const header = "track_id,track_name,track_genre,duration_ms,artists\n";
    const input = {
      songs: [
        memoryFile("a.csv", `${header}t3,Three,pop,3,A3\nt1,One,rock,1,A1\nt3,Again,pop,9,X\n`),
        memoryFile("b.csv", `${header}t2,Two,jazz,2,A2\nt1,Other,jazz,7,Y\nt0,Zero,pop,5,\n`),
      ],
      users: [memoryFile("u.csv", "user_id\nu1\n")],
    };
    for (const fastPath of [true, false]) {
      const { catalog } = await loadCatalog(input, { fastPath });
      expect([...catalog.tracks()]).toEqual([
        { trackId: "t0", name: "Zero", genre: "pop", durationMs: 5, artists: "" },
        { trackId: "t1", name: "One", genre: "rock", durationMs: 1, artists: "A1" },
        { trackId: "t2", name: "Two", genre: "jazz", durationMs: 2, artists: "A2" },
        { trackId: "t3", name: "Three", genre: "pop", durationMs: 3, artists: "A3" },
      ]);
      const index = new CatalogIndex(catalog);
      expect([0, 1, 2, 3].map((t) => [index.trackId(t), index.trackName(t), index.trackArtists(t)])).toEqual([
        ["t0", "Zero", ""],
        ["t1", "One", "A1"],
        ["t2", "Two", "A2"],
        ["t3", "Three", "A3"],
      ]);
    }
  });
});
