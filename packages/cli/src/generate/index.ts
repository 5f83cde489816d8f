/**
 * The synthetic data generator behind `musicpipe generate`: a songs catalog shaped like the
 * public Spotify tracks dataset, a users file and Zipf-skewed streams files, with a sprinkle
 * of realistic dirt (duplicates, unknown ids, bad rows, one invalid file). Deterministic for a
 * given seed, streamed to disk in ~1 MB chunks, never holding all rows in memory.
 */
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import { createGzip } from "node:zlib";
import { ConfigurationError } from "@musicpipe/core";
import { Rng, ZipfSampler } from "./prng.js";
import {
  ACCENTED_WORDS,
  COMMA_ARTISTS,
  COUNTRIES,
  EMOJI,
  FIRST_NAMES,
  GENRES,
  LAST_NAMES,
  WORDS,
} from "./vocab.js";

/** Options of {@link generateDataset}. */
export interface GenerateOptions {
  /** Root folder; files go to `OUT/data/raw/{streams,songs,users}/`. */
  out: string;
  /** Total stream rows across all valid streams files (duplicate and bad rows included). */
  streams: number;
  /** Number of consecutive UTC listen dates, from `startDate` to `startDate + days - 1`. */
  days: number;
  /** PRNG seed (any safe integer): the same options give byte-identical files. */
  seed: number;
  /** Distinct songs in the catalog. @default round(min(114000, max(200, streams / 20))) */
  songs?: number;
  /** Distinct users. @default round(min(50000, max(100, streams / 50))) */
  users?: number;
  /** Number of valid streams files. @default max(1, ceil(streams / 1_000_000)) */
  files?: number;
  /**
   * Skew of track popularity: the Zipf exponent of the track ranks (0 = every track equally
   * likely; 1.1 = a few hits take most listens). @default 1.1
   */
  trackSkew?: number;
  /** Skew of user activity: the Zipf exponent of the user ranks (0 = uniform). @default 0.7 */
  userSkew?: number;
  /** First listen date, `YYYY-MM-DD`. @default "2025-06-22" */
  startDate?: string;
  /** Write the streams files as `.csv.gz`. @default false */
  gzip?: boolean;
  /** Called about every 100,000 stream rows written, and once at the end. */
  onProgress?: (p: { rowsWritten: number; rowsTotal: number }) => void;
}

/** One file written by {@link generateDataset}. */
export interface GeneratedFile {
  /** `join(out, "data/raw/<kind>/<name>")`. */
  path: string;
  kind: "streams" | "songs" | "users";
  /** Data rows (header excluded), bad and duplicate rows included. */
  rows: number;
  /** Size on disk (compressed size for `.csv.gz`). */
  bytes: number;
  /**
   * Whether the pipeline should accept the file: `false` for the deliberately invalid streams
   * file, and for header-only streams files (when `files > streams`).
   */
  valid: boolean;
}

/** What {@link generateDataset} wrote: songs, users, the streams files, then the invalid file. */
export interface GenerateResult {
  files: GeneratedFile[];
}

/** The 21 columns of the public Spotify tracks dataset, in its order. */
export const SONG_COLUMNS: readonly string[] = [
  "id",
  "track_id",
  "artists",
  "album_name",
  "track_name",
  "popularity",
  "duration_ms",
  "explicit",
  "danceability",
  "energy",
  "key",
  "loudness",
  "mode",
  "speechiness",
  "acousticness",
  "instrumentalness",
  "liveness",
  "valence",
  "tempo",
  "time_signature",
  "track_genre",
];

/** Columns of the generated users file. */
export const USER_COLUMNS: readonly string[] = [
  "user_id",
  "user_name",
  "user_age",
  "user_country",
  "created_at",
];

/** Name of the deliberately invalid streams file (it lacks `track_id`). */
export const INVALID_STREAMS_FILE = "streams_invalid.csv";

const DEFAULT_START_DATE = "2025-06-22";
const CHUNK_SIZE = 1 << 20;
/** Fast compression: half the time of the default level for ~6% larger files. */
const GZIP_LEVEL = 1;
const PROGRESS_EVERY = 100_000;
const DEFAULT_TRACK_SKEW = 1.1;
const DEFAULT_USER_SKEW = 0.7;
/** The largest Zipf exponent accepted for a skew. */
export const MAX_SKEW = 10;
/** The accepted range of each whole-number option, `[min, max]`. */
export const GENERATE_LIMITS = {
  streams: [0, 1e11],
  days: [1, 36_500],
  songs: [1, 5e6],
  users: [1, 5e7],
  files: [1, 100_000],
} as const satisfies Record<string, readonly [number, number]>;
/** Shares of special rows in each streams file (exact counts, at random positions). */
const DUPLICATE_ROW_SHARE = 0.001;
const UNKNOWN_TRACK_SHARE = 0.0005;
const UNKNOWN_USER_SHARE = 0.0005;
/** Shares of duplicate-track_id and bad rows in the songs file. */
const SONG_DUPLICATE_SHARE = 0.001;
const SONG_BAD_SHARE = 0.0005;
const RECENT_ROWS = 256;
const DAY_MS = 86_400_000;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Independent PRNG streams, so that e.g. the songs do not change with the number of streams.
const RNG_SONGS = 1;
const RNG_USERS = 2;
const RNG_INVALID = 3;
const RNG_STREAMS = 1000;

interface Config {
  readonly out: string;
  readonly streams: number;
  readonly days: number;
  readonly seed: number;
  readonly songs: number;
  readonly users: number;
  readonly files: number;
  readonly trackSkew: number;
  readonly userSkew: number;
  /** Days since 1970-01-01 of the first listen date. */
  readonly startDay: number;
  readonly gzip: boolean;
  readonly onProgress: GenerateOptions["onProgress"];
}

/**
 * Writes a synthetic dataset under `OUT/data/raw/`: `songs/songs.csv`, `users/users.csv`,
 * `streams/streams1.csv` ... `streamsK.csv` (`.csv.gz` with `gzip`) and
 * `streams/streams_invalid.csv`. Existing files of the same names are overwritten.
 *
 * Streams file `k` holds the global rows `k, k + K, k + 2K, ...` of a time-ordered sequence
 * spread evenly over the `days` dates, so every file spans the whole date range and every date
 * has rows when `streams >= days`.
 *
 * @throws ConfigurationError when an option is out of range.
 */
export async function generateDataset(options: GenerateOptions): Promise<GenerateResult> {
  const cfg = resolve(options);
  const raw = join(cfg.out, "data", "raw");
  const dirs = { songs: join(raw, "songs"), users: join(raw, "users"), streams: join(raw, "streams") };
  await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true })));
  await removeEarlierStreams(dirs.streams, cfg);

  const files: GeneratedFile[] = [];
  const catalog = new SongCatalog(cfg);
  const songsPath = join(dirs.songs, "songs.csv");
  files.push({
    path: songsPath,
    kind: "songs",
    rows: catalog.fileRows,
    bytes: await writeChunks(songsPath, catalog.chunks(), false),
    valid: true,
  });

  const users = new UserCatalog(cfg);
  const usersPath = join(dirs.users, "users.csv");
  files.push({
    path: usersPath,
    kind: "users",
    rows: cfg.users,
    bytes: await writeChunks(usersPath, users.chunks(), false),
    valid: true,
  });

  const progress = new Progress(cfg.streams, cfg.onProgress);
  const prefixes = dayPrefixes(cfg.startDay, cfg.days);
  const base = Math.floor(cfg.streams / cfg.files);
  const extra = cfg.streams - base * cfg.files;
  // Compression runs on libuv's thread pool: with gzip, several files in flight use every core.
  const parallel = cfg.gzip ? Math.min(4, availableParallelism()) : 1;
  const streamsFiles: GeneratedFile[] = [];
  let nextFile = 0;
  const worker = async () => {
    for (let k = nextFile++; k < cfg.files; k = nextFile++) {
      const rows = base + (k < extra ? 1 : 0);
      const path = join(dirs.streams, `streams${k + 1}.csv${cfg.gzip ? ".gz" : ""}`);
      const chunks = streamChunks(cfg, k, rows, catalog, users, prefixes, progress);
      const bytes = await writeChunks(path, chunks, cfg.gzip);
      // A file without rows (more files than rows) is header-only, which the pipeline rejects.
      streamsFiles[k] = { path, kind: "streams", rows, bytes, valid: rows > 0 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, cfg.files) }, worker));
  files.push(...streamsFiles);
  progress.finish();

  const invalidPath = join(dirs.streams, INVALID_STREAMS_FILE);
  const invalid = invalidStreams(cfg, users, prefixes);
  files.push({
    path: invalidPath,
    kind: "streams",
    rows: invalid.rows,
    bytes: await writeChunks(invalidPath, [Buffer.from(invalid.text, "utf8")], false),
    valid: false,
  });
  return { files };
}

/**
 * Removes streams files an earlier run wrote that this run will not overwrite (more files
 * before, or the other compression), so they are not counted twice. Only names this generator
 * writes (`streamsN.csv`, `streamsN.csv.gz`) are touched.
 */
async function removeEarlierStreams(dir: string, cfg: Config): Promise<void> {
  const keep = new Set(
    Array.from({ length: cfg.files }, (_, k) => `streams${k + 1}.csv${cfg.gzip ? ".gz" : ""}`),
  );
  const stale = (await readdir(dir)).filter(
    (name) => /^streams\d+\.csv(\.gz)?$/.test(name) && !keep.has(name),
  );
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
}

// ---------------------------------------------------------------------------------------------
// Options

function resolve(o: GenerateOptions): Config {
  if (typeof o.out !== "string" || o.out === "") {
    throw new ConfigurationError("generate: out must be a non-empty folder path");
  }
  const streams = whole("streams", o.streams, ...GENERATE_LIMITS.streams);
  const days = whole("days", o.days, ...GENERATE_LIMITS.days);
  const seed = whole("seed", o.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const songs = whole(
    "songs",
    o.songs ?? Math.round(Math.min(114_000, Math.max(200, streams / 20))),
    ...GENERATE_LIMITS.songs,
  );
  const users = whole(
    "users",
    o.users ?? Math.round(Math.min(50_000, Math.max(100, streams / 50))),
    ...GENERATE_LIMITS.users,
  );
  const files = whole(
    "files",
    o.files ?? Math.max(1, Math.ceil(streams / 1_000_000)),
    ...GENERATE_LIMITS.files,
  );
  const startDate = o.startDate ?? DEFAULT_START_DATE;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(startDate);
  const ms = m === null ? Number.NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (m === null || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== startDate) {
    throw new ConfigurationError(`generate: startDate must be a date YYYY-MM-DD, got '${startDate}'`);
  }
  const startDay = ms / DAY_MS;
  if (new Date((startDay + days - 1) * DAY_MS).getUTCFullYear() > 9999) {
    throw new ConfigurationError("generate: the listen dates must end by 9999-12-31");
  }
  return {
    out: o.out,
    streams,
    days,
    seed,
    songs,
    users,
    files,
    trackSkew: skew("trackSkew", o.trackSkew ?? DEFAULT_TRACK_SKEW),
    userSkew: skew("userSkew", o.userSkew ?? DEFAULT_USER_SKEW),
    startDay,
    gzip: o.gzip ?? false,
    onProgress: o.onProgress,
  };
}

function skew(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_SKEW) {
    throw new ConfigurationError(
      `generate: ${name} must be a number from 0 to ${MAX_SKEW}, got ${String(value)}`,
    );
  }
  return value;
}

function whole(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `generate: ${name} must be a whole number from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Writes `chunks` to `path` (truncating it), gzipped or not, with backpressure; returns the size. */
async function writeChunks(path: string, chunks: Iterable<Buffer>, gzip: boolean): Promise<number> {
  // Chunks are generated synchronously; letting the event loop turn between them keeps the
  // write and compression callbacks flowing while up to a few chunks are generated ahead.
  const source = Readable.from(eachTurn(chunks), { highWaterMark: 4 });
  const sink = createWriteStream(path, { highWaterMark: 4 * CHUNK_SIZE });
  // An output buffer larger than a compressed chunk: one thread-pool job per chunk.
  if (gzip) await pipeline(source, createGzip({ level: GZIP_LEVEL, chunkSize: CHUNK_SIZE }), sink);
  else await pipeline(source, sink);
  return (await stat(path)).size;
}

async function* eachTurn<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) {
    yield item;
    await nextTurn();
  }
}

/** Reports stream rows written, at most about every {@link PROGRESS_EVERY} rows. */
class Progress {
  private written = 0;
  private reported = 0;

  constructor(
    private readonly total: number,
    private readonly callback: GenerateOptions["onProgress"],
  ) {}

  add(rows: number): void {
    this.written += rows;
    if (this.written - this.reported >= PROGRESS_EVERY) this.report();
  }

  finish(): void {
    if (this.reported !== this.written || this.written === 0) this.report();
  }

  private report(): void {
    this.reported = this.written;
    this.callback?.({ rowsWritten: this.written, rowsTotal: this.total });
  }
}

/** RFC 4180 quoting: only fields with a comma, quote or line break are quoted. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `value` (>= 0) with exactly `decimals` decimals, like `toFixed` but faster. */
function fixed(value: number, decimals: number): string {
  const scale = 10 ** decimals;
  const scaled = Math.round(value * scale);
  const whole = Math.floor(scaled / scale);
  return `${whole}.${String(scaled - whole * scale).padStart(decimals, "0")}`;
}

function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `"YYYY-MM-DD "` for each listen date. */
function dayPrefixes(startDay: number, days: number): string[] {
  const out: string[] = [];
  for (let d = 0; d < days; d++) out.push(`${isoDate(startDay + d)} `);
  return out;
}

let timesOfDay: string[] | undefined;

/** `"HH:MM:SS\n"` for each second of a day, built once. */
function timeOfDayTable(): string[] {
  if (timesOfDay === undefined) {
    const table: string[] = [];
    for (let h = 0; h < 24; h++) {
      for (let m = 0; m < 60; m++) {
        const hm = `${pad2(h)}:${pad2(m)}:`;
        for (let s = 0; s < 60; s++) table.push(`${hm}${pad2(s)}\n`);
      }
    }
    timesOfDay = table;
  }
  return timesOfDay;
}

function spotifyId(rng: Rng): string {
  let id = "";
  for (let i = 0; i < 22; i++) id += BASE62[rng.int(62)];
  return id;
}

function capitalize(word: string): string {
  return word.replace(/(^|[\s-])(\p{L})/gu, (_, sep: string, letter: string) => sep + letter.toUpperCase());
}

function shuffledIndexes(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

// ---------------------------------------------------------------------------------------------
// Songs

interface ExtraSongRow {
  /** Emitted right after the song with this index. */
  readonly after: number;
  /** For a duplicate: the earlier song whose track_id it repeats; -1 for a bad row. */
  readonly duplicateOf: number;
  readonly order: number;
}

/** The song catalog: track ids, popularity ranks, and the songs file. */
class SongCatalog {
  /** Track ids, by song index. */
  readonly ids: string[] = [];
  /** `"<track_id>,"` by popularity rank (rank 0 is the most played). */
  readonly byRank: string[] = [];
  /** {@link byRank} packed as ASCII bytes, 23 per track. */
  readonly rankBytes: Uint8Array;
  /** Popularity rank of each song. */
  private readonly rankOf: Int32Array;
  /** Every track id used in the file (valid or not), so unknown ids never collide. */
  readonly taken = new Set<string>();
  readonly sampler: ZipfSampler;
  readonly fileRows: number;
  private readonly extras: ExtraSongRow[] = [];
  private readonly rng: Rng;
  private readonly artists: string[];

  constructor(private readonly cfg: Config) {
    const rng = new Rng(cfg.seed, RNG_SONGS);
    this.rng = rng;
    const n = cfg.songs;
    for (let i = 0; i < n; i++) this.ids.push(this.freshId());
    const order = shuffledIndexes(n, rng);
    this.rankOf = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const song = order[r]!;
      this.rankOf[song] = r;
      this.byRank.push(`${this.ids[song]!},`);
    }
    this.rankBytes = packAscii(this.byRank, TRACK_ID_WIDTH);
    this.sampler = new ZipfSampler(n, cfg.trackSkew);

    const duplicates = n >= 2 ? Math.max(1, Math.round(n * SONG_DUPLICATE_SHARE)) : 0;
    // Bad rows stay far below the 10% a file may have: at most 2% even for tiny catalogs.
    const bad = Math.min(Math.max(3, Math.round(n * SONG_BAD_SHARE)), Math.floor(n * 0.02));
    for (let i = 0; i < duplicates + bad; i++) {
      const after = rng.int(n);
      // A duplicate repeats a strictly earlier song, so the catalog keeps the first (valid) row.
      const duplicateOf = i < duplicates ? rng.int(after + 1) : -1;
      this.extras.push({ after, duplicateOf, order: i });
    }
    this.extras.sort((a, b) => a.after - b.after || a.order - b.order);
    this.fileRows = n + duplicates + bad;
    this.artists = makeArtists(rng, Math.min(20_000, Math.max(20, Math.round(n / 6))));
  }

  private freshId(): string {
    let id = spotifyId(this.rng);
    while (this.taken.has(id)) id = spotifyId(this.rng);
    this.taken.add(id);
    return id;
  }

  /** A track id that is not in the catalog, for unknown-track stream rows. */
  unknownId(rng: Rng): string {
    let id = spotifyId(rng);
    while (this.taken.has(id)) id = spotifyId(rng);
    return id;
  }

  *chunks(): Generator<Buffer> {
    const rng = this.rng;
    let chunk = `${SONG_COLUMNS.join(",")}\n`;
    let row = 0;
    let next = 0;
    let badKind = 0;
    for (let song = 0; song < this.cfg.songs; song++) {
      chunk += this.songLine(row++, this.ids[song]!, this.popularity(this.rankOf[song]!), 0);
      for (; next < this.extras.length && this.extras[next]!.after === song; next++) {
        const extra = this.extras[next]!;
        if (extra.duplicateOf >= 0) {
          // Same track_id, different everything else: a re-release filed under another genre.
          chunk += this.songLine(row++, this.ids[extra.duplicateOf]!, rng.int(40), 0);
        } else {
          chunk += this.songLine(row++, this.freshId(), rng.int(20), 1 + (badKind++ % 3));
        }
      }
      if (chunk.length >= CHUNK_SIZE) {
        yield Buffer.from(chunk, "utf8");
        chunk = "";
      }
    }
    yield Buffer.from(chunk, "utf8");
  }

  private popularity(rank: number): number {
    const base = 100 * (1 - Math.log1p(rank) / Math.log1p(this.cfg.songs));
    return Math.min(100, Math.max(0, Math.round(base + this.rng.range(-5, 5))));
  }

  /** One songs line. `bad`: 0 valid, 1 numeric genre, 2 non-integer duration, 3 shifted columns. */
  private songLine(id: number, trackId: string, popularity: number, bad: number): string {
    const rng = this.rng;
    const count = rng.next() < 0.75 ? 1 : rng.next() < 0.8 ? 2 : 3;
    const artists: string[] = [];
    for (let i = 0; i < count; i++) artists.push(rng.pick(this.artists));
    const trackName = makeTitle(rng, this.artists);
    const albumName = rng.chance(0.2) ? trackName : makeTitle(rng, this.artists);
    const longTail = rng.chance(0.05);
    const duration = longTail
      ? rng.range(30_000, 600_000)
      : 150_000 + Math.round((rng.next() + rng.next() + rng.next() + rng.next()) * 35_000);
    const r = rng.next();
    const timeSignature = r < 0.85 ? 4 : r < 0.95 ? 3 : r < 0.98 ? 5 : 1;
    const genre = rng.pick(GENRES);
    const fields = [
      String(id),
      trackId,
      csvField(artists.join(";")),
      bad === 3 ? `${albumName.replace(/[",\r\n]/g, "")}, Vol. ${rng.range(1, 9)}` : csvField(albumName),
      csvField(trackName),
      String(popularity),
      bad === 2
        ? rng.chance(0.5)
          ? `${duration}.5`
          : `${Math.floor(duration / 60000)}:${pad2(rng.int(60))}`
        : String(duration),
      rng.chance(0.1) ? "True" : "False",
      fixed(rng.next(), 3),
      fixed(rng.next(), 3),
      String(rng.int(12)),
      `-${fixed(2 + rng.next() * rng.next() * 30, 3)}`,
      String(rng.int(2)),
      fixed(0.02 + rng.next() ** 3 * 0.9, 4),
      fixed(rng.next(), 4),
      fixed(rng.next() ** 6, 6),
      fixed(0.03 + rng.next() ** 2 * 0.9, 3),
      fixed(rng.next(), 3),
      fixed(60 + rng.next() * 140, 3),
      String(timeSignature),
      bad === 1 ? (rng.chance(0.5) ? fixed(rng.next(), 3) : String(rng.range(1, 200))) : genre,
    ];
    return `${fields.join(",")}\n`;
  }
}

const CAPITALIZED_WORDS = WORDS.map(capitalize);
const CAPITALIZED_ACCENTED_WORDS = ACCENTED_WORDS.map(capitalize);
const LITTLE_WORDS = ["of", "in", "the", "and", "to"];
const VERSIONS = ["Remastered 2011", "Live", "Radio Edit", "Acoustic", "Remix"];

function makeArtists(rng: Rng, n: number): string[] {
  const word = () => rng.pick(CAPITALIZED_WORDS);
  const artists: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.45) artists.push(`${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`);
    else if (r < 0.6) artists.push(`The ${word()} ${word()}`);
    else if (r < 0.7) artists.push(`DJ ${word()}`);
    else if (r < 0.8) artists.push(`${word()} & the ${word()}s`);
    else if (r < 0.9) artists.push(rng.chance(0.3) ? `Lil ${word()}` : word());
    else if (r < 0.97) artists.push(`${word()} ${word()}`);
    else artists.push(`${rng.pick(FIRST_NAMES)} ${rng.pick(CAPITALIZED_ACCENTED_WORDS)}`);
  }
  // A few artists whose names contain commas, as in the real dataset.
  for (const name of COMMA_ARTISTS) if (rng.chance(0.5)) artists[rng.int(n)] = name;
  return artists;
}

function makeTitle(rng: Rng, artists: readonly string[]): string {
  const word = () => rng.pick(CAPITALIZED_WORDS);
  const r = rng.next();
  const words = r < 0.35 ? 1 : r < 0.75 ? 2 : r < 0.93 ? 3 : 4;
  let title = word();
  for (let i = 1; i < words; i++) title += ` ${rng.chance(0.1) ? rng.pick(LITTLE_WORDS) : word()}`;
  const x = rng.next();
  if (x < 0.03) title = `${title}, ${word()}`;
  else if (x < 0.05) title = rng.chance(0.5) ? `${title} "${word()}"` : `"${word()}" ${title}`;
  else if (x < 0.08)
    title = rng.chance(0.5)
      ? `${rng.pick(CAPITALIZED_ACCENTED_WORDS)} ${title}`
      : `${title} ${rng.pick(CAPITALIZED_ACCENTED_WORDS)}`;
  else if (x < 0.11) title = `${title} (feat. ${rng.pick(artists)})`;
  else if (x < 0.13) title = `${title} - ${rng.pick(VERSIONS)}`;
  if (rng.chance(0.004)) title = `${title} ${rng.pick(EMOJI)}`;
  return title;
}

// ---------------------------------------------------------------------------------------------
// Users

class UserCatalog {
  /** `"<user_id>,"` by activity rank (rank 0 listens most). */
  readonly byRank: string[] = [];
  /** {@link byRank} packed as ASCII bytes, {@link idWidth} per user. */
  readonly rankBytes: Uint8Array;
  /** Characters of `"<user_id>,"`. */
  readonly idWidth: number;
  readonly sampler: ZipfSampler;
  private readonly width: number;
  private readonly rng: Rng;

  constructor(private readonly cfg: Config) {
    const rng = new Rng(cfg.seed, RNG_USERS);
    this.rng = rng;
    this.width = Math.max(6, String(cfg.users).length);
    const order = shuffledIndexes(cfg.users, rng);
    for (let r = 0; r < cfg.users; r++) this.byRank.push(`${this.id(order[r]!)},`);
    this.idWidth = this.width + 2;
    this.rankBytes = packAscii(this.byRank, this.idWidth);
    this.sampler = new ZipfSampler(cfg.users, cfg.userSkew);
  }

  id(n: number): string {
    return `u${String(n).padStart(this.width, "0")}`;
  }

  /** A user id that is not in the users file. */
  unknownId(rng: Rng): string {
    return this.id(this.cfg.users + rng.int(Math.max(1000, this.cfg.users)));
  }

  *chunks(): Generator<Buffer> {
    const rng = this.rng;
    let chunk = `${USER_COLUMNS.join(",")}\n`;
    for (let i = 0; i < this.cfg.users; i++) {
      const first = rng.pick(FIRST_NAMES);
      const last = rng.pick(LAST_NAMES);
      const r = rng.next();
      const name =
        r < 0.08
          ? `${last}, ${first}`
          : r < 0.1
            ? `${first} "${rng.pick(CAPITALIZED_WORDS)}" ${last}`
            : r < 0.15
              ? `${first} ${String.fromCharCode(65 + rng.int(26))}. ${last}`
              : `${first} ${last}`;
      const age = 13 + Math.floor(rng.next() ** 1.6 * 67);
      const created = `${isoDate(this.cfg.startDay - 1 - rng.int(3 * 365))} ${timeOfDayTable()[rng.int(86_400)]!}`;
      chunk += `${this.id(i)},${csvField(name)},${age},${csvField(rng.pick(COUNTRIES))},${created}`;
      if (chunk.length >= CHUNK_SIZE) {
        yield Buffer.from(chunk, "utf8");
        chunk = "";
      }
    }
    yield Buffer.from(chunk, "utf8");
  }
}

// ---------------------------------------------------------------------------------------------
// Streams

/** Fixed-width ASCII records packed in one byte array, for fast copying into output chunks. */
function packAscii(values: readonly string[], width: number): Uint8Array {
  const bytes = new Uint8Array(values.length * width);
  values.forEach((value, i) => {
    if (value.length !== width) throw new Error(`internal: '${value}' is not ${width} characters long`);
    for (let c = 0; c < width; c++) bytes[i * width + c] = value.charCodeAt(c);
  });
  return bytes;
}

/** The bytes of one streams line: enough room for the longest, unknown ids included. */
const MAX_STREAM_LINE = 256;
/** `"<22-character track id>,"` */
const TRACK_ID_WIDTH = 23;
/** `"YYYY-MM-DD "` */
const DAY_PREFIX_WIDTH = 11;
const DIGIT_0 = 48;
const COLON = 58;
const NEWLINE = 10;

/**
 * The chunks of streams file `k` (0-based), which holds `rows` rows: the global rows
 * `g = k + j * files` of a sequence whose row `g` falls on day `floor(g * days / streams)`, at
 * a time of day that grows with `g`. Duplicate and unknown-id rows are placed by selection
 * sampling, so their numbers are exact. Lines are ASCII and written straight into Buffers.
 */
function* streamChunks(
  cfg: Config,
  k: number,
  rows: number,
  songs: SongCatalog,
  users: UserCatalog,
  prefixes: readonly string[],
  progress: Progress,
): Generator<Buffer> {
  const file = new StreamsFile(cfg, k, rows, songs, users, prefixes);
  let first = true;
  while (first || file.remaining > 0) {
    const buf = Buffer.allocUnsafe(CHUNK_SIZE + MAX_STREAM_LINE);
    const start = first ? buf.write("user_id,track_id,listen_time\n", 0, "latin1") : 0;
    first = false;
    const before = file.remaining;
    const end = file.fill(buf, start, CHUNK_SIZE);
    yield buf.subarray(0, end);
    progress.add(before - file.remaining);
  }
}

/** The state of one streams file being generated (kept out of the generator for speed). */
class StreamsFile {
  /** Rows still to write. */
  remaining: number;
  private readonly rng: Rng;
  private readonly rows: number;
  private readonly dayBytes: Uint8Array;
  private readonly step: number;
  private duplicates: number;
  private unknownTracks: number;
  private unknownUsers: number;
  // The last RECENT_ROWS normal rows, as (user rank, track rank, day, second), for duplicates.
  private readonly recentUser = new Int32Array(RECENT_ROWS);
  private readonly recentTrack = new Int32Array(RECENT_ROWS);
  private readonly recentDay = new Int32Array(RECENT_ROWS);
  private readonly recentSecond = new Int32Array(RECENT_ROWS);
  private recentCount = 0;
  // Position in the global sequence: g * days = day * n + rest, with 0 <= rest < n.
  private day: number;
  private rest: number;

  constructor(
    private readonly cfg: Config,
    k: number,
    rows: number,
    private readonly songs: SongCatalog,
    private readonly users: UserCatalog,
    prefixes: readonly string[],
  ) {
    this.rng = new Rng(cfg.seed, RNG_STREAMS + k);
    this.rows = rows;
    this.remaining = rows;
    this.dayBytes = packAscii(prefixes, DAY_PREFIX_WIDTH);
    this.step = cfg.files * cfg.days;
    const atLeastOne = rows >= 1000 ? 1 : 0;
    this.duplicates = Math.max(atLeastOne, Math.round(rows * DUPLICATE_ROW_SHARE));
    this.unknownTracks = Math.max(atLeastOne, Math.round(rows * UNKNOWN_TRACK_SHARE));
    this.unknownUsers = Math.max(atLeastOne, Math.round(rows * UNKNOWN_USER_SHARE));
    const n = cfg.streams;
    this.day = n === 0 ? 0 : Math.floor((k * cfg.days) / n);
    this.rest = k * cfg.days - this.day * n;
  }

  /** Writes rows into `buf` from `pos` until `pos >= limit` or no rows remain; returns the end. */
  fill(buf: Buffer, start: number, limit: number): number {
    const rng = this.rng;
    const trackSampler = this.songs.sampler;
    const userSampler = this.users.sampler;
    const trackBytes = this.songs.rankBytes;
    const userBytes = this.users.rankBytes;
    const userWidth = this.users.idWidth;
    const dayBytes = this.dayBytes;
    const recentUser = this.recentUser;
    const recentTrack = this.recentTrack;
    const recentDay = this.recentDay;
    const recentSecond = this.recentSecond;
    const n = this.cfg.streams;
    const days = this.cfg.days;
    const step = this.step;
    let day = this.day;
    let rest = this.rest;
    let pos = start;
    let j = this.rows - this.remaining;
    const rows = this.rows;
    for (; j < rows && pos < limit; j++) {
      let kind = 0; // 0 normal, 1 duplicate, 2 unknown track, 3 unknown user
      const specials = this.duplicates + this.unknownTracks + this.unknownUsers;
      if (specials > 0 && rng.next() * (rows - j) < specials) kind = this.pickSpecial(specials);

      let userRank: number;
      let trackRank: number;
      let lineDay = day;
      let second: number;
      if (kind === 1) {
        const r =
          (this.recentCount - 1 - rng.int(Math.min(this.recentCount, RECENT_ROWS))) & (RECENT_ROWS - 1);
        userRank = recentUser[r]!;
        trackRank = recentTrack[r]!;
        lineDay = recentDay[r]!;
        second = recentSecond[r]!;
      } else {
        second = Math.floor(((rest + rng.next() * days) * 86_400) / n);
        if (second > 86_399) second = 86_399;
        userRank = kind === 3 ? -1 : userSampler.sample(rng.next());
        trackRank = kind === 2 ? -1 : trackSampler.sample(rng.next());
        if (kind === 0) {
          const r = this.recentCount++ & (RECENT_ROWS - 1);
          recentUser[r] = userRank;
          recentTrack[r] = trackRank;
          recentDay[r] = day;
          recentSecond[r] = second;
        }
      }

      if (userRank >= 0) {
        for (let i = 0, o = userRank * userWidth; i < userWidth; i++) buf[pos++] = userBytes[o + i]!;
      } else {
        pos += buf.write(`${this.users.unknownId(rng)},`, pos, "latin1");
      }
      if (trackRank >= 0) {
        for (let i = 0, o = trackRank * TRACK_ID_WIDTH; i < TRACK_ID_WIDTH; i++)
          buf[pos++] = trackBytes[o + i]!;
      } else {
        pos += buf.write(`${this.songs.unknownId(rng)},`, pos, "latin1");
      }
      for (let i = 0, o = lineDay * DAY_PREFIX_WIDTH; i < DAY_PREFIX_WIDTH; i++)
        buf[pos++] = dayBytes[o + i]!;
      const hours = (second / 3600) | 0;
      const minutes = ((second - hours * 3600) / 60) | 0;
      const seconds = second - hours * 3600 - minutes * 60;
      buf[pos++] = DIGIT_0 + ((hours / 10) | 0);
      buf[pos++] = DIGIT_0 + (hours % 10);
      buf[pos++] = COLON;
      buf[pos++] = DIGIT_0 + ((minutes / 10) | 0);
      buf[pos++] = DIGIT_0 + (minutes % 10);
      buf[pos++] = COLON;
      buf[pos++] = DIGIT_0 + ((seconds / 10) | 0);
      buf[pos++] = DIGIT_0 + (seconds % 10);
      buf[pos++] = NEWLINE;

      rest += step;
      while (rest >= n) {
        rest -= n;
        day++;
      }
    }
    this.remaining = rows - j;
    this.day = day;
    this.rest = rest;
    return pos;
  }

  /** Chooses which special row this is (1 duplicate, 2 unknown track, 3 unknown user; 0 none). */
  private pickSpecial(specials: number): number {
    let c = this.rng.int(specials);
    // A duplicate needs an earlier row; before the first, pick one of the other kinds.
    if (c < this.duplicates && this.recentCount === 0) {
      if (specials === this.duplicates) return 0;
      c = this.duplicates + this.rng.int(specials - this.duplicates);
    }
    if (c < this.duplicates) {
      this.duplicates--;
      return 1;
    }
    if (c < this.duplicates + this.unknownTracks) {
      this.unknownTracks--;
      return 2;
    }
    this.unknownUsers--;
    return 3;
  }
}

/** A small streams file without the track_id column. */
function invalidStreams(
  cfg: Config,
  users: UserCatalog,
  prefixes: readonly string[],
): { text: string; rows: number } {
  const rng = new Rng(cfg.seed, RNG_INVALID);
  const times = timeOfDayTable();
  const rows = 5;
  let text = "user_id,listen_time\n";
  for (let i = 0; i < rows; i++) {
    text += `${users.byRank[rng.int(users.byRank.length)]!}${prefixes[rng.int(prefixes.length)]!}${times[rng.int(86_400)]!}`;
  }
  return { text, rows };
}
