/**
 * Compares the library's computeKpis with the independent naive reference (tests/reference/naive-kpis.ts)
 * on (1) the edge-case data set in tests/fixtures/edge plus files built in memory (gzip, BOM, CRLF,
 * invalid UTF-8, ...), (2) random data sets, and checks the reference itself against hand-computed KPIs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { computeKpis, type InputFile } from "../src/index.js";
import { type NaiveFile, type NaiveInput, type NaiveResult, naiveKpis } from "./reference/naive-kpis.js";
import { Rng } from "./reference/rng.js";

type Kind = "streams" | "songs" | "users";
const KINDS: Kind[] = ["streams", "songs", "users"];

const utf8 = (text: string) => new TextEncoder().encode(text);
const bytesOf = (parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

/** An InputFile yielding `bytes` in chunks of `chunkSize`, either synchronously or asynchronously. */
function chunked(name: string, bytes: Uint8Array, chunkSize: number, async: boolean): InputFile {
  return {
    name,
    open: () =>
      async
        ? (async function* () {
            for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.slice(i, i + chunkSize);
          })()
        : (function* () {
            for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.slice(i, i + chunkSize);
          })(),
  };
}

interface Compared {
  kpis: Pick<NaiveResult, "genreStats" | "topSongs" | "topGenres">;
  rejected: string[];
  rejectionCodes: Record<string, string | undefined>;
  counts: Record<string, { badRows: number; duplicateRows?: number }>;
}

const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Runs the library, feeding each file in chunks; projects the result onto the spec'd fields. */
async function runLibrary(
  input: NaiveInput,
  options: { maxBadRowShare?: number },
  chunkSize: (name: string) => number,
  async = false,
): Promise<Compared> {
  const files = (list: NaiveFile[]) => list.map((f) => chunked(f.name, f.bytes, chunkSize(f.name), async));
  const run = await computeKpis(
    { streams: files(input.streams), songs: files(input.songs), users: files(input.users) },
    options,
  );
  const kinds = new Map<string, Kind>();
  for (const kind of KINDS) for (const f of input[kind]) kinds.set(f.name, kind);
  const rejectionCodes: Record<string, string | undefined> = {};
  const counts: Compared["counts"] = {};
  for (const f of run.files) {
    if (!f.accepted) rejectionCodes[f.file] = f.rejection?.code;
    else
      counts[f.file] =
        kinds.get(f.file) === "streams"
          ? { badRows: f.badRows, duplicateRows: f.duplicateRows }
          : { badRows: f.badRows };
  }
  return {
    kpis: {
      genreStats: run.kpis.genreStats.map((g) => ({
        listenDate: g.listenDate,
        genre: g.genre,
        listenCount: g.listenCount,
        uniqueListeners: g.uniqueListeners,
        totalListeningTimeMs: g.totalListeningTimeMs,
        avgListeningTimePerUserMs: g.avgListeningTimePerUserMs,
      })),
      topSongs: run.kpis.topSongs.map((s) => ({
        listenDate: s.listenDate,
        genre: s.genre,
        rank: s.rank,
        trackId: s.trackId,
        trackName: s.trackName,
        listenCount: s.listenCount,
      })),
      topGenres: run.kpis.topGenres.map((g) => ({
        listenDate: g.listenDate,
        rank: g.rank,
        genre: g.genre,
        listenCount: g.listenCount,
      })),
    },
    rejected: Object.keys(rejectionCodes).sort(byCodePoint),
    rejectionCodes,
    counts,
  };
}

function runNaive(input: NaiveInput, options: { maxBadRowShare?: number }): Compared {
  const r = naiveKpis(input, options);
  const rejectionCodes: Record<string, string | undefined> = {};
  const counts: Compared["counts"] = {};
  for (const f of r.files) {
    if (!f.accepted) rejectionCodes[f.file] = f.code;
    else
      counts[f.file] =
        f.kind === "streams"
          ? { badRows: f.badRows, duplicateRows: f.duplicateRows }
          : { badRows: f.badRows };
  }
  return {
    kpis: { genreStats: r.genreStats, topSongs: r.topSongs, topGenres: r.topGenres },
    rejected: r.rejected,
    rejectionCodes,
    counts,
  };
}

// ---------------------------------------------------------------------------------------------------------
// 1. The edge-case data set

const EDGE_ROOT = new URL("./fixtures/edge/data/raw/", import.meta.url);

/** Files that are built in memory: binary content, BOMs, CRLF (kept out of git to avoid EOL conversion). */
function runtimeEdgeFiles(): Record<Kind, NaiveFile[]> {
  const crlf = (lines: string[]) => `${lines.join("\r\n")}\r\n`;
  const gzStreams = [
    "user_id,track_id,listen_time",
    "u1,t1,2025-06-22 10:00:00",
    "u8,t2,2025-06-22T22:00:00-03:00",
    "u8,t2,2025-06-23 01:00:00",
    "u9,t3,2025-06-22 10:00:00",
    "",
  ].join("\n");
  return {
    songs: [
      {
        // BOM, CRLF, Spotify-like extra columns in another order (one repeated), artists, a quoted CRLF name.
        name: "songs-b-bom-crlf.csv",
        bytes: utf8(
          `\uFEFF${crlf([
            '"track_genre","Unnamed: 0",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,popularity',
            "Metal,0,t1,Someone,Album,Cross-file duplicate (songs-a wins),50,1,False,50",
            '🎸Metal,1,t9,"Guitar; Hero","Album, with comma","Quoted\r\nCRLF name",60,240000,True,60',
            "\uE000Private,2,t10,Priv,Priv album,Private use,10,100000,False,10",
            "Ｎ,3,tz,A,B,Zed,1,1000,False,1",
            "Ｎ,4,té,A,B,E acute,1,2000,False,1",
            "Ｎ,5,tＡ,A,B,Fullwidth A,1,3000,False,1",
            "Ｎ,6,t😀,A,B,Emoji track,1,4000,False,1",
          ])}`,
        ),
      },
      // t12 is defined in both: "songs-z-\uE000.csv" < "songs-z-😀.csv" by code point (not by UTF-16 unit).
      {
        name: "songs-z-😀.csv",
        bytes: utf8("track_id,track_name,track_genre,duration_ms\nt12,From emoji file,FromEmoji,1\n"),
      },
      {
        name: "songs-z-\uE000.csv",
        bytes: utf8("track_id,track_name,track_genre,duration_ms\nt12,From E000 file,FromE000,7000\n"),
      },
    ],
    users: [],
    streams: [
      {
        // CRLF; a row identical to s01's first row (counts again); quoted fields; ignored blank records.
        name: "s03-crlf.csv",
        bytes: utf8(
          crlf([
            "user_id,track_id,listen_time",
            "u1,t1,2025-06-22 10:00:00",
            '"u2","t2","2025-06-22 11:00:00"',
            "",
            " , ,  ",
            "u3,t3,2025-06-22T11:00:00Z",
            "u3,t3,2025-06-22T11:00:00Z",
            '"",,',
            ",",
            "u4,t9,2025-06-25 12:00:00",
          ]),
        ),
      },
      {
        // Mixed CRLF/LF, columns reordered with padded header names, an extra column with quoted newlines.
        name: "s04-mixed.csv",
        bytes: utf8(
          "listen_time, user_id ,note,track_id\r\n" +
            '2025-06-24 08:00:00,u1,"multi\nline",t1\n' +
            '2025-06-24 08:00:00,u2,"a ""quoted"" note",t1\r\n' +
            '2025-06-24T08:00:00+08:00,u1,"crlf\r\ninside",t1\n' +
            "2025-06-24 09:00:00,u3,,t5\r\n" +
            "2025-06-24 09:00:00,u3,x,t5",
        ),
      },
      { name: "s05-gzip.csv.gz", bytes: gzipSync(Buffer.from(gzStreams)) },
      {
        // Two concatenated gzip members form one valid gzip stream.
        name: "s05b-gzip-multimember.csv.gz",
        bytes: Buffer.concat([
          gzipSync(Buffer.from("user_id,track_id,listen_time\nu5,t4,2025-06-27 10:00:00\n")),
          gzipSync(Buffer.from("u6,t4,2025-06-27 10:00:00\n")),
        ]),
      },
      // A gzip of nothing is an empty file.
      { name: "s05c-gzip-empty.csv.gz", bytes: gzipSync(Buffer.alloc(0)) },
      // Gzipped without a .gz suffix: recognised by the magic bytes.
      { name: "s06-gzip-noext.csv", bytes: gzipSync(Buffer.from(gzStreams.replaceAll("u9", "u4"))) },
      {
        name: "s07-bom.csv",
        bytes: utf8("\uFEFFuser_id,track_id,listen_time\nu6,t6,2025-06-24 23:00:00-02:00\n"),
      },
      {
        // 0xFF is never valid in UTF-8; all rows would otherwise be valid.
        name: "s17-invalid-utf8.csv",
        bytes: bytesOf(["user_id,track_id,listen_time,note\nu1,t1,2025-08-02 10:00:00,caf", [0xff], "\n"]),
      },
      {
        // An encoded UTF-16 surrogate (ED A0 80) is invalid UTF-8 too.
        name: "s17b-surrogate.csv",
        bytes: bytesOf([
          "user_id,track_id,listen_time,note\nu1,t1,2025-08-03 10:00:00,",
          [0xed, 0xa0, 0x80],
          "\n",
        ]),
      },
      {
        // A truncated multi-byte sequence at the very end of the file.
        name: "s17c-truncated.csv",
        bytes: bytesOf([
          "user_id,track_id,listen_time\nu1,t1,2025-08-04 10:00:00\nu2,t1,2025-08-04 10:00:00",
          [0xe2, 0x82],
        ]),
      },
      {
        name: "s20-row-too-large.csv",
        bytes: utf8(
          `user_id,track_id,listen_time,note\nu1,t1,2025-08-01 10:00:00,${"x".repeat(1536 * 1024)}\nu2,t1,2025-08-01 10:00:00,ok\n`,
        ),
      },
    ],
  };
}

function edgeInput(): NaiveInput {
  const input: NaiveInput = { streams: [], songs: [], users: [] };
  const runtime = runtimeEdgeFiles();
  for (const kind of KINDS) {
    const dir = new URL(`${kind}/`, EDGE_ROOT);
    for (const name of readdirSync(dir)) input[kind].push({ name, bytes: readFileSync(new URL(name, dir)) });
    input[kind].push(...runtime[kind]);
    // Feed files in reverse name order so that the library has to sort catalogs itself.
    input[kind].sort((a, b) => -byCodePoint(a.name, b.name));
  }
  return input;
}

describe("library vs naive reference on the edge-case data set", () => {
  const input = edgeInput();
  const expected = runNaive(input, {});

  it("the edge set exercises what it is meant to (sanity check of the fixtures)", () => {
    expect(expected.rejected).toEqual(
      [
        "s10-missing-track-id.csv",
        "s11-header-only.csv",
        "s05c-gzip-empty.csv.gz",
        "s12-empty.csv",
        "s12b-blank-lines.csv",
        "s13-over-threshold.csv",
        "s17-invalid-utf8.csv",
        "s17b-surrogate.csv",
        "s17c-truncated.csv",
        "s18-duplicate-column.csv",
        "s19-unterminated-quote.csv",
        "s20-row-too-large.csv",
        "s22-header-case.csv",
        "songs-d-rejected.csv",
        "users-empty.csv",
        "users-header-only.csv",
      ].sort(byCodePoint),
    );
    const stats = expected.kpis.genreStats;
    expect(stats.filter((g) => g.listenDate === "2025-07-01").map((g) => g.genre)).toEqual([
      "Jazz",
      "Pop",
      "Rock",
      "\uE000Private",
      "Ｎ",
      "🎸Metal",
    ]);
    const top = (date: string) => expected.kpis.topGenres.filter((g) => g.listenDate === date);
    expect(top("2025-07-01").map((g) => g.genre)).toEqual(["Ｎ", "Jazz", "Pop", "Rock", "\uE000Private"]);
    expect(top("2025-07-02").map((g) => g.genre)).toEqual(["Pop", " Pop ", "0x1F", "FromE000", "Jazz"]);
    const songsOf = (date: string, genre: string) =>
      expected.kpis.topSongs.filter((s) => s.listenDate === date && s.genre === genre).map((s) => s.trackId);
    expect(songsOf("2025-07-01", "Ｎ")).toEqual(["tz", "té", "tＡ"]);
    expect(songsOf("2025-07-02", "Pop")).toEqual(["t1", "t20", "t24"]);
    expect(expected.counts["s01-times.csv"]).toEqual({ badRows: 0, duplicateRows: 9 });
    expect(expected.counts["s02-bad-rows.csv"]?.badRows).toBe(37);
  });

  it.each([
    { chunk: 7, async: false },
    { chunk: 3, async: true },
    { chunk: 1, async: false },
  ])(
    "computes the same KPIs and rejects the same files (chunks of $chunk, async $async)",
    async ({ chunk, async }) => {
      const actual = await runLibrary(input, {}, (name) => (name.startsWith("s20") ? 4096 : chunk), async);
      expect(actual.kpis.genreStats).toEqual(expected.kpis.genreStats);
      expect(actual.kpis.topSongs).toEqual(expected.kpis.topSongs);
      expect(actual.kpis.topGenres).toEqual(expected.kpis.topGenres);
      expect(actual.rejected).toEqual(expected.rejected);
    },
  );

  it("gives the same rejection codes and bad/duplicate row counts", async () => {
    const actual = await runLibrary(input, {}, () => 7);
    const codes = (c: Compared) =>
      Object.fromEntries(
        Object.entries(c.rejectionCodes).map(([file, code]) => [
          file,
          // The spec names no code for the bad-row threshold.
          expected.rejectionCodes[file] === "too_many_bad_rows" ? "(threshold)" : code,
        ]),
      );
    expect(codes(actual)).toEqual(codes(expected));
    expect(actual.counts).toEqual(expected.counts);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 2. Random data sets

const GENRES = ["Pop", "Rock", "Jazz", "🎸Metal", "\uE000Folk", "Ｎ", " Pop", "pop", "Électro", "0x1F"];
const TRACKS = ["t1", "t2", "t3", "t10", "T1", "tz", "té", "tＡ", "t😀", "t 1"];
const USERS = ["u1", "u2", "u3", "uＡ", "u😀", "U1"];
const DATES = ["2025-02-28", "2024-02-29", "2024-12-31", "2025-01-01"];
const OFFSETS = [0, 0, 0, 60, -60, 120, -300, 330, -570, 1, -1, 1439, -1439];
const NAMES = ["Name", "With, comma", 'Quote "q"', "Multi\nline", "CR\r\nLF", "", " spaced ", "Ünï"];
const BAD_TIMES = ["2025-02-30 10:00:00", "garbage", "2025-06-22 24:00:00", "", "  ", "2025-06-22 10:00.5"];
const BAD_DURATIONS = ["1.5", "-3", "", "180000.0", "1e3", "abc", "9007199254740993"];
const BAD_GENRES = ["42", "1e3", " ", "", "-.5", "+7."];

const pad2 = (n: number) => String(n).padStart(2, "0");

function csvField(rng: Rng, value: string): string {
  if (/[",\r\n]/.test(value) || rng.chance(0.1)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/** Builds the text of a CSV file with random line endings, blank lines, BOM and final newline. */
function csvText(rng: Rng, header: string[], rows: string[][]): string {
  const eolMode = rng.int(3);
  const eol = () => (eolMode === 0 ? "\n" : eolMode === 1 ? "\r\n" : rng.pick(["\n", "\r\n"]));
  let text = rng.chance(0.2) ? "\uFEFF" : "";
  const records = [header, ...rows];
  records.forEach((fields, i) => {
    if (rng.chance(0.03)) text += rng.pick(["", " ", " , "]) + eol();
    text += fields.map((f) => csvField(rng, f)).join(",");
    if (i < records.length - 1 || rng.chance(0.8)) text += eol();
  });
  return text;
}

/** Spells a UTC instant (whole seconds + fraction digits) in a random allowed way. */
function spellInstant(rng: Rng, wholeMs: number, fraction: string): string {
  const offset = rng.pick(OFFSETS);
  const local = new Date(wholeMs + offset * 60_000);
  const date = local.toISOString().slice(0, 10);
  let text = `${date}${rng.pick([" ", "T", "t"])}${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}`;
  const seconds = local.getUTCSeconds();
  if (seconds !== 0 || fraction !== "" || rng.chance(0.7)) {
    text += `:${pad2(seconds)}`;
    let digits = fraction;
    if (digits === "" && rng.chance(0.2)) digits = "0";
    if (digits !== "") {
      while (digits.length < 12 && rng.chance(0.3)) digits += "0";
      text += rng.pick([".", ","]) + digits;
    }
  }
  const hh = pad2(Math.floor(Math.abs(offset) / 60));
  const mm = pad2(Math.abs(offset) % 60);
  const sign = offset < 0 ? "-" : "+";
  if (offset === 0) text += rng.pick(["", "", "Z", "z", "+00", "-00", "+0000", "+00:00", "-00:00"]);
  else if (mm === "00" && rng.chance(0.3)) text += `${sign}${hh}`;
  else text += rng.chance(0.5) ? `${sign}${hh}${mm}` : `${sign}${hh}:${mm}`;
  if (rng.chance(0.05)) text = ` ${text} `;
  return text;
}

function randomDataset(seed: number): { input: NaiveInput; options: { maxBadRowShare?: number } } {
  const rng = new Rng(seed);
  const genres = rng.subset(GENRES, 2);
  const tracks = rng.subset(TRACKS, 3);
  const users = rng.subset(USERS, 2);
  const dates = rng.subset(DATES, 1);
  const badShare = () => rng.pick([0, 0, 0, 0.03, 0.12]);

  const songs: NaiveFile[] = [];
  for (const name of rng.subset(
    ["songs-a.csv", "songs-b.csv", "songs-\uE000.csv", "songs-😀.csv", "songs-B.csv"],
    1,
  )) {
    const extras = rng.subset(["artists", "popularity", "album_name"], 0);
    const header = rng.shuffle(["track_id", "track_name", "track_genre", "duration_ms", ...extras]);
    const pBad = songs.length === 0 && rng.chance(0.8) ? 0 : badShare();
    const rows: string[][] = [];
    // The first songs file lists every track (so that most streams join); others pick at random.
    const ids = songs.length === 0 ? rng.shuffle(tracks) : [];
    const n = ids.length + rng.int(tracks.length + 4);
    for (let i = 0; i < n; i++) {
      const values: Record<string, string> = {
        track_id: ids[i] ?? rng.pick(tracks),
        track_name: rng.pick(NAMES),
        track_genre: rng.pick(genres),
        duration_ms: rng.pick(["1000", "180000", "+250", " 3000 ", "0", "7"]),
        artists: rng.pick(["A", "B;C", ""]),
        popularity: String(rng.int(100)),
        album_name: rng.pick(NAMES),
      };
      if (rng.chance(pBad)) {
        const which = rng.int(4);
        if (which === 0) values.duration_ms = rng.pick(BAD_DURATIONS);
        if (which === 1) values.track_genre = rng.pick(BAD_GENRES);
        if (which === 2) values.track_id = rng.pick(["", "  "]);
        if (which === 3) {
          const fields = header.map((h) => values[h]!);
          rows.push(rng.chance(0.5) ? [...fields, "extra"] : fields.slice(1));
          continue;
        }
      }
      rows.push(header.map((h) => values[h]!));
    }
    songs.push({ name, bytes: utf8(csvText(rng, header, rows)) });
  }

  const usersFiles: NaiveFile[] = [];
  for (const name of rng.subset(["users-1.csv", "users-2.csv"], 1)) {
    const header = rng.shuffle(["user_id", "user_name", ...(rng.chance(0.3) ? ["country"] : [])]);
    const pBad = usersFiles.length === 0 && rng.chance(0.8) ? 0 : badShare();
    const rows: string[][] = [];
    for (const u of usersFiles.length === 0 ? rng.shuffle(users) : rng.subset(users, 1)) {
      const values: Record<string, string> = { user_id: u, user_name: rng.pick(NAMES), country: "FR" };
      if (rng.chance(pBad / 2)) values.user_id = rng.pick(["", " "]);
      rows.push(header.map((h) => values[h]!));
    }
    usersFiles.push({ name, bytes: utf8(csvText(rng, header, rows)) });
  }

  const streams: NaiveFile[] = [];
  const history: { user: string; track: string; wholeMs: number; fraction: string }[] = [];
  const streamFileCount = 1 + rng.int(4);
  for (let f = 0; f < streamFileCount; f++) {
    const header = rng.shuffle([
      "user_id",
      "track_id",
      "listen_time",
      ...(rng.chance(0.3) ? ["device"] : []),
    ]);
    const pBad = badShare();
    const rows: string[][] = [];
    const n = 20 + rng.int(130);
    for (let i = 0; i < n; i++) {
      let event: (typeof history)[number];
      if (history.length > 0 && rng.chance(0.2)) event = rng.pick(history);
      else {
        const wholeMs =
          Date.parse(`${rng.pick(dates)}T00:00:00Z`) +
          rng.pick([0, 1, 12, 22, 23]) * 3_600_000 +
          rng.pick([0, 30, 59]) * 60_000 +
          rng.pick([0, 0, 30, 59]) * 1000;
        event = {
          user: rng.chance(0.02) ? rng.pick(["u999", " u1"]) : rng.pick(users),
          track: rng.chance(0.02) ? "t999" : rng.pick(tracks),
          wholeMs,
          fraction: rng.pick(["", "", "", "5", "123456789012", "000001", "000002"]),
        };
        history.push(event);
      }
      const values: Record<string, string> = {
        user_id: event.user,
        track_id: event.track,
        listen_time: spellInstant(rng, event.wholeMs, event.fraction),
        device: rng.pick(["phone", "web, desktop", ""]),
      };
      if (rng.chance(pBad)) {
        const which = rng.int(3);
        if (which === 0) values.listen_time = rng.pick(BAD_TIMES);
        if (which === 1) values[rng.pick(["user_id", "track_id"])] = rng.pick(["", "   "]);
        if (which === 2) {
          const fields = header.map((h) => values[h]!);
          rows.push(rng.chance(0.5) ? [...fields, ""] : fields.slice(1));
          continue;
        }
      }
      rows.push(header.map((h) => values[h]!));
    }
    const text = csvText(rng, header, rows);
    const gz = rng.chance(0.25);
    streams.push({
      name: `streams-${f}.csv${gz ? ".gz" : ""}`,
      bytes: gz ? gzipSync(Buffer.from(text)) : utf8(text),
    });
  }
  const maxBadRowShare = rng.pick([undefined, 0.1, 0.2, 0.5]);
  return {
    input: { streams: rng.shuffle(streams), songs: rng.shuffle(songs), users: rng.shuffle(usersFiles) },
    options: maxBadRowShare === undefined ? {} : { maxBadRowShare },
  };
}

describe("library vs naive reference on random data sets", () => {
  it("agree on 50 seeded random data sets", async () => {
    let nonEmpty = 0;
    let withRejections = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const { input, options } = randomDataset(seed);
      const expected = runNaive(input, options);
      const chunkRng = new Rng(seed * 7919);
      const actual = await runLibrary(input, options, () => 1 + chunkRng.int(16), seed % 2 === 0);
      const context = `seed ${seed}`;
      expect(actual.kpis, context).toEqual(expected.kpis);
      expect(actual.rejected, context).toEqual(expected.rejected);
      expect(actual.counts, context).toEqual(expected.counts);
      if (expected.kpis.genreStats.length > 0) nonEmpty++;
      if (expected.rejected.length > 0) withRejections++;
    }
    // The generator must produce interesting data, not only rejected files or only clean ones.
    expect(nonEmpty).toBeGreaterThan(40);
    expect(withRejections).toBeGreaterThan(5);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 3. Hand-computed KPIs for tiny inputs (checks the reference itself, and the library)

const SONGS_HEADER = "track_id,track_name,track_genre,duration_ms\n";

async function both(input: NaiveInput, options: { maxBadRowShare?: number } = {}) {
  return [runNaive(input, options), await runLibrary(input, options, () => 5)] as const;
}

const file = (name: string, text: string): NaiveFile => ({ name, bytes: utf8(text) });

describe("hand-computed KPIs", () => {
  it("offsets crossing midnight, same-instant duplicates, fractions", async () => {
    const input: NaiveInput = {
      songs: [file("songs.csv", `${SONGS_HEADER}A,Song A,Pop,1000\nB,Song B,Rock,3000\n`)],
      users: [file("users.csv", "user_id,user_name\nu1,One\nu2,Two\n")],
      streams: [
        file(
          "streams.csv",
          [
            "user_id,track_id,listen_time",
            "u1,A,2025-01-01 23:30:00-01:00", // 2025-01-02 00:30Z
            "u1,A,2025-01-02T00:30:00Z", // same instant: duplicate
            "u2,A,2025-01-02 01:00:00+02:00", // 2025-01-01 23:00Z
            "u2,B,2025-01-01 10:00",
            "u1,B,2025-01-01 10:00:00.000", // other user
            "u2,B,2025-01-01 10:00:00.001", // 1 ms later: not a duplicate
            "u2,B,2025-01-01T10:00:00.0010Z", // duplicate of the previous row
            "",
          ].join("\n"),
        ),
      ],
    };
    for (const result of await both(input)) {
      expect(result.kpis).toEqual({
        genreStats: [
          {
            listenDate: "2025-01-01",
            genre: "Pop",
            listenCount: 1,
            uniqueListeners: 1,
            totalListeningTimeMs: 1000,
            avgListeningTimePerUserMs: 1000,
          },
          {
            listenDate: "2025-01-01",
            genre: "Rock",
            listenCount: 3,
            uniqueListeners: 2,
            totalListeningTimeMs: 9000,
            avgListeningTimePerUserMs: 4500,
          },
          {
            listenDate: "2025-01-02",
            genre: "Pop",
            listenCount: 1,
            uniqueListeners: 1,
            totalListeningTimeMs: 1000,
            avgListeningTimePerUserMs: 1000,
          },
        ],
        topSongs: [
          {
            listenDate: "2025-01-01",
            genre: "Pop",
            rank: 1,
            trackId: "A",
            trackName: "Song A",
            listenCount: 1,
          },
          {
            listenDate: "2025-01-01",
            genre: "Rock",
            rank: 1,
            trackId: "B",
            trackName: "Song B",
            listenCount: 3,
          },
          {
            listenDate: "2025-01-02",
            genre: "Pop",
            rank: 1,
            trackId: "A",
            trackName: "Song A",
            listenCount: 1,
          },
        ],
        topGenres: [
          { listenDate: "2025-01-01", rank: 1, genre: "Rock", listenCount: 3 },
          { listenDate: "2025-01-01", rank: 2, genre: "Pop", listenCount: 1 },
          { listenDate: "2025-01-02", rank: 1, genre: "Pop", listenCount: 1 },
        ],
      });
      expect(result.rejected).toEqual([]);
      expect(result.counts["streams.csv"]).toEqual({ badRows: 0, duplicateRows: 2 });
    }
  });

  it("ties broken by code point (U+E000..U+FFFF sorts before astral characters)", async () => {
    const songs = [
      "x😀,E,G,1",
      "xＡ,F,G,1",
      "xb,B,G,1",
      "xa,A,G,1",
      "k1,K1,🎸,1",
      "k2,K2,\uE000,1",
      "k3,K3,Y,1",
      "k4,K4,B,1",
      "k5,K5,A,1",
    ];
    const streamed = ["x😀", "xＡ", "xb", "xa", "k1", "k2", "k3", "k4", "k5"];
    const input: NaiveInput = {
      songs: [file("songs.csv", `${SONGS_HEADER}${songs.join("\n")}\n`)],
      users: [file("users.csv", "user_id,user_name\nu1,One\n")],
      streams: [
        file(
          "streams.csv",
          `user_id,track_id,listen_time\n${streamed.map((t) => `u1,${t},2025-05-05 05:05:05`).join("\n")}\n`,
        ),
      ],
    };
    const stat = (genre: string, n: number) => ({
      listenDate: "2025-05-05",
      genre,
      listenCount: n,
      uniqueListeners: 1,
      totalListeningTimeMs: n,
      avgListeningTimePerUserMs: n,
    });
    const song = (rank: number, trackId: string, trackName: string) => ({
      listenDate: "2025-05-05",
      genre: "G",
      rank,
      trackId,
      trackName,
      listenCount: 1,
    });
    const genre = (rank: number, g: string, listenCount: number) => ({
      listenDate: "2025-05-05",
      rank,
      genre: g,
      listenCount,
    });
    for (const result of await both(input)) {
      expect(result.kpis.genreStats).toEqual([
        stat("A", 1),
        stat("B", 1),
        stat("G", 4),
        stat("Y", 1),
        stat("\uE000", 1),
        stat("🎸", 1),
      ]);
      expect(result.kpis.topSongs.filter((s) => s.genre === "G")).toEqual([
        song(1, "xa", "A"),
        song(2, "xb", "B"),
        song(3, "xＡ", "F"),
      ]);
      expect(result.kpis.topGenres).toEqual([
        genre(1, "G", 4),
        genre(2, "A", 1),
        genre(3, "B", 1),
        genre(4, "Y", 1),
        genre(5, "\uE000", 1),
      ]);
    }
  });

  it("catalog precedence, bad rows, threshold and cross-file repeats", async () => {
    const input: NaiveInput = {
      songs: [
        file("s-b.csv", `${SONGS_HEADER}T,From B,Rock,200\nU,Only B,Rock,300\n`),
        // The bad row is ignored, so the next row is the first valid occurrence of T (1 bad of 2 = 0.5).
        file("s-a.csv", `${SONGS_HEADER}T,Bad,42,10\nT,Good A,Pop,100\n`),
      ],
      users: [file("users.csv", "user_id,user_name\nu1,\n")],
      streams: [
        file("st1.csv", "user_id,track_id,listen_time\nu1,T,2025-03-01 12:00:00\nu1,U,2025-03-01 12:00:00\n"),
        // 2 bad rows of 3 > 0.5: rejected, contributes nothing.
        file(
          "st2.csv",
          "user_id,track_id,listen_time\nu1,T,2025-03-01 13:00\nu1,X,2025-03-01 13:00\nu2,T,x\n",
        ),
        // The same row in another file counts again.
        file("st3.csv", "user_id,track_id,listen_time\nu1,T,2025-03-01 12:00:00\n"),
      ],
    };
    for (const result of await both(input, { maxBadRowShare: 0.5 })) {
      expect(result.kpis).toEqual({
        genreStats: [
          {
            listenDate: "2025-03-01",
            genre: "Pop",
            listenCount: 2,
            uniqueListeners: 1,
            totalListeningTimeMs: 200,
            avgListeningTimePerUserMs: 200,
          },
          {
            listenDate: "2025-03-01",
            genre: "Rock",
            listenCount: 1,
            uniqueListeners: 1,
            totalListeningTimeMs: 300,
            avgListeningTimePerUserMs: 300,
          },
        ],
        topSongs: [
          {
            listenDate: "2025-03-01",
            genre: "Pop",
            rank: 1,
            trackId: "T",
            trackName: "Good A",
            listenCount: 2,
          },
          {
            listenDate: "2025-03-01",
            genre: "Rock",
            rank: 1,
            trackId: "U",
            trackName: "Only B",
            listenCount: 1,
          },
        ],
        topGenres: [
          { listenDate: "2025-03-01", rank: 1, genre: "Pop", listenCount: 2 },
          { listenDate: "2025-03-01", rank: 2, genre: "Rock", listenCount: 1 },
        ],
      });
      expect(result.rejected).toEqual(["st2.csv"]);
    }
  });
});
