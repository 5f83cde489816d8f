import { checkUtf8, concatBytes, maybeGunzip } from "../csv/bytes.js";
import { type ByteSource, DEFAULT_MAX_ROW_BYTES } from "../csv/index.js";
import { CsvFormatError } from "../errors/index.js";
import type { Track } from "../kpi/types.js";
import { type FieldProblem, genreProblem, keyProblem, readDurationMs } from "../schema/index.js";
import { DEFAULT_MAX_BAD_ROW_SHARE, type FileReport, RowTally, type ScanOptions } from "../validate/index.js";
import { isBlankBytes } from "./bytes.js";
import { ByteInterner } from "./interner.js";
import { FastPathUnsupported } from "./scan.js";

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const SONG_COLUMNS = ["track_id", "track_name", "track_genre", "duration_ms", "artists"] as const;
const USER_COLUMNS = ["user_id", "user_name"] as const;

/**
 * Reads RFC 4180 records from bytes: quoted fields with doubled quotes and line breaks, CRLF or
 * LF. Anything csv-parse would treat in a way of its own (a quote inside an unquoted field,
 * text after a closing quote, a lone CR at the end) is left to it: {@link FastPathUnsupported}.
 * Calls `onRecord` with the values of the wanted columns (others are skipped without making
 * strings), the field count and the line the record ends on.
 */
class RecordReader {
  #tail: Uint8Array | undefined;
  #line = 0;
  #wanted: Int32Array = new Int32Array(0);
  readonly #values: (string | undefined)[] = [];
  /** The record's buffer and the bytes of its first wanted column (the id), unless quoted with doubled quotes. */
  #buf: Uint8Array = new Uint8Array(0);
  #idStart = 0;
  #idEnd = -1;
  #view: DataView = new DataView(new ArrayBuffer(0));
  #onHeader: (names: string[]) => Int32Array;
  #onRecord: (values: (string | undefined)[], fields: number, line: number, blank: boolean) => void;
  #sawHeader = false;
  #headerNames: string[] = [];
  readonly #maxRecord: number;

  constructor(
    onHeader: (names: string[]) => Int32Array,
    onRecord: (values: (string | undefined)[], fields: number, line: number, blank: boolean) => void,
    maxRecord: number,
  ) {
    this.#onHeader = onHeader;
    this.#onRecord = onRecord;
    this.#maxRecord = maxRecord;
  }

  feed(input: Uint8Array, last: boolean): void {
    let buf =
      input.constructor === Uint8Array
        ? input
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    if (this.#tail !== undefined) {
      buf = concatBytes(this.#tail, buf);
      this.#tail = undefined;
    }
    let pos = 0;
    for (;;) {
      const end = this.#record(buf, pos, last);
      if (end === -1) break;
      pos = end;
    }
    if (pos < buf.length) {
      if (buf.length - pos > this.#maxRecord) throw new FastPathUnsupported("a very long record");
      this.#tail = buf.slice(pos);
    }
  }

  /** Parses one record at `pos`; returns the position after it, or -1 when it is incomplete (or the input ended). */
  #record(buf: Uint8Array, pos: number, last: boolean): number {
    const n = buf.length;
    if (pos >= n) return -1;
    // Empty lines are skipped (and counted as lines).
    if (buf[pos] === LF || (buf[pos] === CR && buf[pos + 1] === LF)) {
      this.#line++;
      return pos + (buf[pos] === LF ? 1 : 2);
    }
    if (buf[pos] === CR && pos + 1 >= n && !last) return -1;
    let i = pos;
    let field = 0;
    let lines = 0;
    let blank = true;
    this.#values.length = 0;
    this.#buf = buf;
    this.#idEnd = -1;
    const wanted = this.#wanted;
    for (;;) {
      const want = !this.#sawHeader ? field : field < wanted.length ? wanted[field]! : -1;
      let start: number;
      let end: number;
      let escaped = false;
      if (i < n && buf[i] === QUOTE) {
        let j = i + 1;
        for (;;) {
          if (j >= n) return this.#incomplete(last);
          const b = buf[j]!;
          if (b === QUOTE) {
            if (j + 1 >= n && !last) return -1;
            if (buf[j + 1] === QUOTE) {
              escaped = true;
              j += 2;
              continue;
            }
            break;
          }
          if (b === LF || b === CR) lines++; // csv-parse counts each CR and LF inside quotes as a line
          j++;
        }
        start = i + 1;
        end = j;
        i = j + 1;
        const after = i < n ? buf[i]! : -1;
        if (after === CR) {
          if (i + 1 >= n && !last) return -1;
          if (buf[i + 1] !== LF) throw new FastPathUnsupported("a lone CR");
        } else if (after !== COMMA && after !== LF && after !== -1) {
          throw new FastPathUnsupported("text after a closing quote");
        }
      } else {
        let j = i;
        while (j < n) {
          const b = buf[j]!;
          if (b === COMMA || b === LF) break;
          if (b === QUOTE) throw new FastPathUnsupported("a quote inside an unquoted field");
          if (b === CR && buf[j + 1] !== LF) lines++; // csv-parse counts a lone CR as a line
          j++;
        }
        if (j >= n && !last) return -1;
        start = i;
        end = j;
        if (end > start && buf[end - 1] === CR) {
          if (j < n && buf[j] === LF)
            end--; // CRLF
          else if (j >= n) throw new FastPathUnsupported("a lone CR at the end");
        }
        i = j;
      }
      if (want >= 0) {
        let text = decoder.decode(buf.subarray(start, end));
        if (escaped) text = text.replaceAll('""', '"');
        else if (want === 0) {
          this.#idStart = start;
          this.#idEnd = end;
        }
        if (blank && text.trim() !== "") blank = false;
        if (!this.#sawHeader) this.#values.push(text);
        else this.#values[want] = text;
      } else if (blank && !isBlankBytes(buf, start, end)) {
        blank = false;
      }
      field++;
      if (i >= n || buf[i] !== COMMA) break;
      i++; // the comma
    }
    // i is at CR LF, LF or the end of the input.
    if (i < n && buf[i] === CR) i++;
    if (i < n && buf[i] === LF) i++;
    else if (!last) return -1;
    this.#line += lines + 1;
    if (!this.#sawHeader) {
      if (blank) return i; // blank records before the header are skipped
      this.#sawHeader = true;
      this.#headerNames = this.#values.map((v) => v ?? "");
      this.#wanted = this.#onHeader(this.#headerNames);
      return i;
    }
    this.#onRecord(this.#values, field, this.#line, blank);
    return i;
  }

  #incomplete(last: boolean): number {
    if (last) throw new FastPathUnsupported("an unclosed quote");
    return -1;
  }

  /**
   * Interns the current record's id (its first wanted column, `id`) in `ids` by its bytes,
   * without encoding the string again unless it was quoted with doubled quotes.
   */
  internId(ids: ByteInterner, id: string): number {
    if (this.#idEnd < 0) return ids.intern(encoder.encode(id));
    const buf = this.#buf;
    const view = this.#view;
    if (
      view.buffer !== buf.buffer ||
      view.byteOffset !== buf.byteOffset ||
      view.byteLength !== buf.byteLength
    )
      this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
    return ids.internIn(this.#view, this.#buf, this.#idStart, this.#idEnd);
  }

  get sawHeader(): boolean {
    return this.#sawHeader && this.#headerNames.length > 0;
  }
}

/** Song rows (first valid occurrence per id, in file order) or user ids, and the report. */
export interface CatalogScan {
  readonly report: FileReport;
  readonly tracks: Track[];
  readonly users: string[];
  /** The ids of `tracks` or `users` interned by their UTF-8 bytes, in the same order (id `i` is entry `i`). */
  readonly ids: ByteInterner;
}

/**
 * Reads a songs or users file with a byte-level RFC 4180 reader, with the checks, codes,
 * messages and counts of the general reader and the built-in schemas. Throws
 * {@link FastPathUnsupported} for anything it leaves to the general reader.
 */
export async function scanCatalogFast(
  source: ByteSource,
  name: string,
  kind: "songs" | "users",
  options: ScanOptions = {},
): Promise<CatalogScan> {
  const maxShare = options.maxBadRowShare ?? DEFAULT_MAX_BAD_ROW_SHARE;
  const columns: readonly string[] = kind === "songs" ? SONG_COLUMNS : USER_COLUMNS;
  const required = kind === "songs" ? 4 : 2;
  let width = 0;
  const tally = new RowTally(name, kind, options.maxIssues ?? 100);
  const tracks: Track[] = [];
  const users: string[] = [];
  const ids = new ByteInterner(kind === "songs" ? 1 << 14 : 1 << 12);
  let firstRecord = true;
  const drop = tally.drop.bind(tally);
  const problem = (row: number, line: number, column: string, p: FieldProblem) =>
    drop(p.code, row, line, `${column} ${p.message}`, column);
  /** `true` for the first valid row of an id; a later one is a duplicate row. */
  const keep = (id: string): boolean => {
    const before = ids.size;
    reader.internId(ids, id);
    if (ids.size === before) {
      tally.duplicateRows++;
      return false;
    }
    tally.rowsKept++;
    return true;
  };
  const reader = new RecordReader(
    (names) => {
      if (firstRecord && names[0]?.charCodeAt(0) === 0xfeff) names[0] = names[0].slice(1);
      firstRecord = false;
      const trimmed = names.map((h) => h.trim());
      const wanted = new Int32Array(trimmed.length).fill(-1);
      columns.forEach((column, c) => {
        const at = trimmed.indexOf(column);
        if (at !== -1 && trimmed.indexOf(column, at + 1) !== -1)
          throw new FastPathUnsupported("a duplicated column");
        if (at === -1 && c < required) throw new FastPathUnsupported("a missing column");
        if (at !== -1) wanted[at] = c;
      });
      width = trimmed.length;
      return wanted;
    },
    (values, fields, line, blank) => {
      if (blank) return;
      const row = ++tally.rowsRead;
      if (fields !== width)
        return drop("column_count", row, line, `has ${fields} fields, the header has ${width}`);
      // The checks of the built-in schema, in its column order, with its codes and messages.
      const id = values[0]!;
      const empty = keyProblem(id);
      if (empty !== undefined) return problem(row, line, kind === "users" ? "user_id" : "track_id", empty);
      if (kind === "users") {
        if (!keep(id)) return;
        users.push(id);
        return;
      }
      const genre = values[2]!;
      const badGenre = genreProblem(genre);
      if (badGenre !== undefined) return problem(row, line, "track_genre", badGenre);
      const durationMs = readDurationMs(values[3]!);
      if (typeof durationMs !== "number") return problem(row, line, "duration_ms", durationMs);
      if (keep(id)) tracks.push({ trackId: id, name: values[1]!, genre, durationMs, artists: values[4] });
    },
    Math.floor((options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES) / 2),
  );
  try {
    const it = checkUtf8(maybeGunzip(source, name, options.gzip), name)[Symbol.asyncIterator]();
    let next = await it.next();
    while (!next.done) {
      const following = await it.next();
      reader.feed(next.value, following.done === true);
      next = following;
    }
    reader.feed(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof CsvFormatError) throw new FastPathUnsupported(err.code);
    throw err;
  }
  if (!reader.sawHeader || tally.rowsRead === 0) throw new FastPathUnsupported("no data rows");
  return { report: tally.finish(maxShare), tracks, users, ids };
}
