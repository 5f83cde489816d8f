/**
 * A deliberately naive reference implementation of the musicpipe KPI spec.
 *
 * It is written independently of packages/core/src: every file is read whole into memory, parsed with a
 * tiny hand-written RFC 4180 parser, and the KPIs are computed with plain arrays, maps and loops. Speed is
 * irrelevant here; the only goal is to be obviously correct, so that the library can be compared to it.
 */
import { gunzipSync } from "node:zlib";

export interface NaiveFile {
  name: string;
  bytes: Uint8Array;
}

export interface NaiveInput {
  streams: NaiveFile[];
  songs: NaiveFile[];
  users: NaiveFile[];
}

export interface NaiveOptions {
  maxBadRowShare?: number;
}

export interface NaiveGenreStat {
  listenDate: string;
  genre: string;
  listenCount: number;
  uniqueListeners: number;
  totalListeningTimeMs: number;
  avgListeningTimePerUserMs: number;
}

export interface NaiveTopSong {
  listenDate: string;
  genre: string;
  rank: number;
  trackId: string;
  trackName: string;
  listenCount: number;
}

export interface NaiveTopGenre {
  listenDate: string;
  rank: number;
  genre: string;
  listenCount: number;
}

export type FileKind = "streams" | "songs" | "users";

export interface NaiveFileReport {
  file: string;
  kind: FileKind;
  accepted: boolean;
  /** The rejection code, when the file is rejected. */
  code?: string;
  /** Data rows: records after the header, ignoring empty / whitespace-only records. */
  dataRows: number;
  badRows: number;
  /** Streams only: in-file exact duplicates of an earlier kept row. */
  duplicateRows: number;
}

export interface NaiveResult {
  genreStats: NaiveGenreStat[];
  topSongs: NaiveTopSong[];
  topGenres: NaiveTopGenre[];
  /** Names of the rejected files (all kinds), sorted by code point. */
  rejected: string[];
  files: NaiveFileReport[];
}

// ---------------------------------------------------------------------------------------------------------
// String ordering by Unicode code point

/** Compares two strings code point by code point (NOT by UTF-16 code unit, which is what `<` does). */
export function compareCodePoints(a: string, b: string): number {
  const ca = Array.from(a, (ch) => ch.codePointAt(0)!);
  const cb = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < ca.length && i < cb.length; i++) {
    if (ca[i]! !== cb[i]!) return ca[i]! - cb[i]!;
  }
  return ca.length - cb.length;
}

// ---------------------------------------------------------------------------------------------------------
// Bytes -> text -> records

const MAX_ROW_BYTES = 1024 * 1024;

class Rejection extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

function decode(file: NaiveFile): string {
  let bytes = file.bytes;
  const looksGzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (looksGzipped || file.name.endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      throw new Rejection("invalid_gzip");
    }
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new Rejection("invalid_encoding");
  }
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  return text;
}

/**
 * Splits text into records of fields (RFC 4180). Record separators are "\r\n" or "\n" (mixed is fine).
 * A quote may only open a field; inside a quoted field "" is a literal quote and anything else (commas,
 * CR, LF) is literal; after the closing quote only a comma, a line break or the end may follow.
 * A final line break does not start an extra record. Returns each record's fields and its size in bytes.
 */
export function parseCsv(text: string): { fields: string[]; bytes: number }[] {
  const records: { fields: string[]; bytes: number }[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = i;
    const fields: string[] = [];
    // Parse one record.
    for (;;) {
      let value = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Rejection("malformed_csv"); // unterminated quote
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            value += text[i];
            i++;
          }
        }
        const next = text[i];
        const atEnd = i >= n || next === "," || next === "\n" || (next === "\r" && text[i + 1] === "\n");
        if (!atEnd) throw new Rejection("malformed_csv"); // characters after the closing quote
      } else {
        while (i < n && text[i] !== "," && text[i] !== "\n" && !(text[i] === "\r" && text[i + 1] === "\n")) {
          if (text[i] === '"') throw new Rejection("malformed_csv"); // stray quote in an unquoted field
          value += text[i];
          i++;
        }
      }
      fields.push(value);
      if (i < n && text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    const end = i;
    if (text[i] === "\r") i += 2;
    else if (text[i] === "\n") i += 1;
    records.push({ fields, bytes: Buffer.byteLength(text.slice(start, end), "utf8") });
  }
  return records;
}

function isBlank(s: string): boolean {
  return s.trim() === "";
}

interface Table {
  header: string[];
  rows: string[][];
}

const SCHEMA: Record<FileKind, { required: string[]; optional: string[] }> = {
  streams: { required: ["user_id", "track_id", "listen_time"], optional: [] },
  songs: { required: ["track_id", "track_name", "track_genre", "duration_ms"], optional: ["artists"] },
  users: { required: ["user_id", "user_name"], optional: [] },
};

function readTable(file: NaiveFile, kind: FileKind): Table {
  const text = decode(file);
  const all = parseCsv(text);
  for (const r of all) if (r.bytes > MAX_ROW_BYTES) throw new Rejection("row_too_large");
  const records = all.filter((r) => !r.fields.every(isBlank)).map((r) => r.fields);
  if (records.length === 0) throw new Rejection("empty_file");
  const header = records[0]!.map((h) => h.trim());
  const schema = SCHEMA[kind];
  for (const col of [...schema.required, ...schema.optional]) {
    if (header.filter((h) => h === col).length > 1) throw new Rejection("duplicate_column");
  }
  for (const col of schema.required) {
    if (!header.includes(col)) throw new Rejection("missing_column");
  }
  if (records.length === 1) throw new Rejection("header_only");
  return { header, rows: records.slice(1) };
}

// ---------------------------------------------------------------------------------------------------------
// Field validation

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  const days = [31, isLeapYear(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return days[m - 1]!;
}

export interface Instant {
  /** Milliseconds since the epoch of the whole seconds of the instant. */
  wholeMs: number;
  /** The fractional-second digits with trailing zeros removed ("" when none). */
  fraction: string;
  /** The UTC calendar date, YYYY-MM-DD. */
  date: string;
}

const LISTEN_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[ Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** Parses a listen_time per the spec, or returns undefined when it is unparseable. */
export function parseListenTime(raw: string): Instant | undefined {
  const m = LISTEN_TIME.exec(raw.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const fractionDigits = m[7] ?? "";
  const sign = m[9] === "-" ? -1 : 1;
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;

  // Build the local wall-clock time as if it were UTC (setUTCFullYear avoids the 0..99 => 19xx quirk),
  // then subtract the zone offset.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const wholeMs = d.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  // Listen dates run from 0001-01-01 to 9999-12-31 (UTC); outside, the row is bad.
  const utcYear = new Date(wholeMs).getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return undefined;
  const date = new Date(wholeMs).toISOString().slice(0, 10);
  return { wholeMs, fraction: fractionDigits.replace(/0+$/, ""), date };
}

const DURATION = /^\+?\d+$/;
const NUMBER_LIKE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

// ---------------------------------------------------------------------------------------------------------
// The pipeline

interface Song {
  trackName: string;
  genre: string;
  durationMs: number;
}

interface KeptStream {
  userId: string;
  trackId: string;
  date: string;
}

function sortedByName(files: NaiveFile[]): NaiveFile[] {
  return [...files].sort((a, b) => compareCodePoints(a.name, b.name));
}

export function naiveKpis(input: NaiveInput, options: NaiveOptions = {}): NaiveResult {
  const maxBadRowShare = options.maxBadRowShare ?? 0.1;
  const reports: NaiveFileReport[] = [];

  /** Runs `perRow` over each data row (returning true when the row is bad), then applies the threshold. */
  function processFile(
    file: NaiveFile,
    kind: FileKind,
    perRow: (row: Record<string, string>) => "bad" | "duplicate" | "kept",
  ): boolean {
    let table: Table;
    try {
      table = readTable(file, kind);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      reports.push({
        file: file.name,
        kind,
        accepted: false,
        code: e.code,
        dataRows: 0,
        badRows: 0,
        duplicateRows: 0,
      });
      return false;
    }
    let badRows = 0;
    let duplicateRows = 0;
    for (const fields of table.rows) {
      if (fields.length !== table.header.length) {
        badRows++;
        continue;
      }
      const row: Record<string, string> = {};
      // Only schema columns matter; extra columns may repeat, schema columns cannot (checked above).
      for (let c = 0; c < table.header.length; c++) {
        const name = table.header[c]!;
        if (!(name in row)) row[name] = fields[c]!;
      }
      const outcome = perRow(row);
      if (outcome === "bad") badRows++;
      if (outcome === "duplicate") duplicateRows++;
    }
    const dataRows = table.rows.length;
    const accepted = !(badRows / dataRows > maxBadRowShare);
    const report: NaiveFileReport = { file: file.name, kind, accepted, dataRows, badRows, duplicateRows };
    if (!accepted) report.code = "too_many_bad_rows";
    reports.push(report);
    return accepted;
  }

  // 1. Song catalog: files in code-point order of their names; first valid occurrence wins.
  const songs = new Map<string, Song>();
  for (const file of sortedByName(input.songs)) {
    const candidates: [string, Song][] = [];
    const accepted = processFile(file, "songs", (row) => {
      const trackId = row.track_id!;
      const duration = row.duration_ms!.trim();
      const genre = row.track_genre!;
      if (isBlank(trackId)) return "bad";
      if (!DURATION.test(duration)) return "bad";
      const durationMs = Number(duration);
      if (!Number.isSafeInteger(durationMs)) return "bad";
      if (isBlank(genre) || NUMBER_LIKE.test(genre.trim())) return "bad";
      candidates.push([trackId, { trackName: row.track_name!, genre, durationMs }]);
      return "kept";
    });
    if (accepted) for (const [id, song] of candidates) if (!songs.has(id)) songs.set(id, song);
  }

  // 2. User catalog, likewise.
  const users = new Set<string>();
  for (const file of sortedByName(input.users)) {
    const candidates: string[] = [];
    const accepted = processFile(file, "users", (row) => {
      if (isBlank(row.user_id!)) return "bad";
      candidates.push(row.user_id!);
      return "kept";
    });
    if (accepted) for (const id of candidates) users.add(id);
  }

  // 3. Streams: validate, join, drop in-file exact duplicates.
  const kept: KeptStream[] = [];
  for (const file of sortedByName(input.streams)) {
    const fileRows: KeptStream[] = [];
    const seen: string[] = [];
    const accepted = processFile(file, "streams", (row) => {
      const userId = row.user_id!;
      const trackId = row.track_id!;
      const listenTime = row.listen_time!;
      if (isBlank(userId) || isBlank(trackId) || isBlank(listenTime)) return "bad";
      const instant = parseListenTime(listenTime);
      if (instant === undefined) return "bad";
      if (!songs.has(trackId)) return "bad";
      if (!users.has(userId)) return "bad";
      const key = JSON.stringify([userId, trackId, instant.wholeMs, instant.fraction]);
      if (seen.includes(key)) return "duplicate";
      seen.push(key);
      fileRows.push({ userId, trackId, date: instant.date });
      return "kept";
    });
    if (accepted) kept.push(...fileRows);
  }

  // 4. KPIs.
  const groupKeys: { date: string; genre: string }[] = [];
  for (const s of kept) {
    const genre = songs.get(s.trackId)!.genre;
    if (!groupKeys.some((g) => g.date === s.date && g.genre === genre))
      groupKeys.push({ date: s.date, genre });
  }
  groupKeys.sort((a, b) => compareCodePoints(a.date, b.date) || compareCodePoints(a.genre, b.genre));

  const genreStats: NaiveGenreStat[] = [];
  const topSongs: NaiveTopSong[] = [];
  for (const { date, genre } of groupKeys) {
    const rows = kept.filter((s) => s.date === date && songs.get(s.trackId)!.genre === genre);
    const listeners = new Set(rows.map((s) => s.userId));
    let total = 0;
    for (const s of rows) total += songs.get(s.trackId)!.durationMs;
    genreStats.push({
      listenDate: date,
      genre,
      listenCount: rows.length,
      uniqueListeners: listeners.size,
      totalListeningTimeMs: total,
      avgListeningTimePerUserMs: total / listeners.size,
    });

    const trackIds = [...new Set(rows.map((s) => s.trackId))];
    const counted = trackIds.map((trackId) => ({
      trackId,
      count: rows.filter((s) => s.trackId === trackId).length,
    }));
    counted.sort((a, b) => b.count - a.count || compareCodePoints(a.trackId, b.trackId));
    counted.slice(0, 3).forEach((t, i) => {
      topSongs.push({
        listenDate: date,
        genre,
        rank: i + 1,
        trackId: t.trackId,
        trackName: songs.get(t.trackId)!.trackName,
        listenCount: t.count,
      });
    });
  }

  const topGenres: NaiveTopGenre[] = [];
  const dates = [...new Set(groupKeys.map((g) => g.date))].sort(compareCodePoints);
  for (const date of dates) {
    const ofDate = genreStats.filter((g) => g.listenDate === date);
    const ordered = [...ofDate].sort(
      (a, b) => b.listenCount - a.listenCount || compareCodePoints(a.genre, b.genre),
    );
    ordered.slice(0, 5).forEach((g, i) => {
      topGenres.push({ listenDate: date, rank: i + 1, genre: g.genre, listenCount: g.listenCount });
    });
  }

  const rejected = reports.filter((r) => !r.accepted).map((r) => r.file);
  rejected.sort(compareCodePoints);
  return { genreStats, topSongs, topGenres, rejected, files: reports };
}
