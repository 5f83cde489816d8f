import { Buffer } from "node:buffer";
import { type ByteSource, checkUtf8, concatBytes, DEFAULT_MAX_ROW_BYTES, maybeGunzip } from "../csv/bytes.js";
import { CsvFormatError } from "../errors/index.js";
import { type FieldProblem, genreProblem, keyProblem, readDurationMs } from "../schema/fields.js";
import {
  DEFAULT_MAX_BAD_ROW_SHARE,
  type FileReport,
  RowTally,
  type ScanOptions,
} from "../validate/report.js";
import { isBlankBytes } from "./bytes.js";
import { reserveFor, TrackRows, type TrackTable, UserRows, type UserTable } from "./catalog-tables.js";
import { ByteInterner, viewOf } from "./interner.js";
import { FastPathUnsupported } from "./scan.js";
import { structuralScanner } from "./structural.js";

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
const PLUS = 43;
const decoder = new TextDecoder();
/**
 * A chunk longer than this is read in pieces of this size (views, not copies): the structural
 * scanner's memory (about 9 bytes a byte read at once) follows the piece, not the chunk a
 * caller hands over (a whole file as one array, say).
 */
const FEED_PIECE = 1024 * 1024;

const SONG_COLUMNS = ["track_id", "track_name", "track_genre", "duration_ms", "artists"] as const;
const USER_COLUMNS = ["user_id", "user_name"] as const;
/** Slots of the wanted song columns, in {@link SONG_COLUMNS} order. */
const ID = 0;
const NAME = 1;
const GENRE = 2;
const DURATION = 3;
const ARTISTS = 4;

/** The first index from `from` on (ascending `values[0, count)`) whose value is at least `min`. */
function firstAtOrAfter(values: Int32Array, count: number, from: number, min: number): number {
  let i = from;
  if (i > 0 && values[i - 1]! >= min) {
    // Went past it: looked for from the start.
    let lo = 0;
    let hi = i;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid]! < min) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  while (i < count && values[i]! < min) i++;
  return i;
}

/**
 * Reads RFC 4180 records from bytes: quoted fields with doubled quotes and line breaks, CRLF or
 * LF. Anything csv-parse would treat in a way of its own (a quote inside an unquoted field,
 * text after a closing quote, a lone CR at the end) is left to it: {@link FastPathUnsupported}.
 * Calls `onRecord` once a record is read, with the byte spans of the wanted columns in
 * {@link start} / {@link end} / {@link escaped} (no strings are made), the field count and the
 * line the record ends on.
 */
class RecordReader {
  #tail: Uint8Array | undefined;
  #line = 0;
  #wanted: Int32Array = new Int32Array(0);
  /** Per wanted slot: where its bytes are in {@link buf} (-1: the record has no such field). */
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Per wanted slot: 1 when the field was quoted with doubled quotes inside. */
  readonly escaped: Uint8Array;
  /** The buffer of the current record, and a view of it. */
  buf: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  readonly #header: string[] = [];
  #onHeader: (names: string[]) => Int32Array;
  #onRecord: (fields: number, line: number, blank: boolean) => void;
  #sawHeader = false;
  #headerNames: string[] = [];
  readonly #maxRecord: number;
  /** Where the structural bytes of {@link buf} are (see `StructuralScanner`), when scanned. */
  #positions: Int32Array = new Int32Array(0);
  /** The indexes in {@link #positions} of the structural bytes that are not commas. */
  #specials: Int32Array = new Int32Array(0);
  /** The first position, and the first special, the lane has not passed. */
  #cursor = 0;
  #specialCursor = 0;
  /** Per wanted slot: the field it is (-1: none), the inverse of {@link #wanted}. */
  #fieldOf: Int32Array = new Int32Array(0);

  constructor(
    slots: number,
    onHeader: (names: string[]) => Int32Array,
    onRecord: (fields: number, line: number, blank: boolean) => void,
    maxRecord: number,
  ) {
    this.start = new Int32Array(slots);
    this.end = new Int32Array(slots);
    this.escaped = new Uint8Array(slots);
    this.#onHeader = onHeader;
    this.#onRecord = onRecord;
    this.#maxRecord = maxRecord;
  }

  feed(input: Uint8Array, last: boolean): void {
    if (input.length > FEED_PIECE) {
      for (let at = 0; at < input.length; at += FEED_PIECE) {
        const end = Math.min(input.length, at + FEED_PIECE);
        this.feed(input.subarray(at, end), last && end === input.length);
      }
      return;
    }
    let buf =
      input.constructor === Uint8Array
        ? input
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const tail = this.#tail;
    if (tail !== undefined) {
      this.#tail = undefined;
      // The record cut at the end of the last chunk is finished with this chunk's first line,
      // read from a copy of the two; the rest is read in place (no copy of the whole chunk).
      const nl = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf(LF);
      if (nl === -1) buf = concatBytes(tail, buf);
      else {
        const head = concatBytes(tail, buf.subarray(0, nl + 1));
        const pos = this.#consume(head, false);
        // Still cut (a line break inside quotes): read with the rest, as one.
        buf =
          pos === head.length ? buf.subarray(nl + 1) : concatBytes(head.subarray(pos), buf.subarray(nl + 1));
      }
    }
    const pos = this.#consume(buf, last);
    if (pos < buf.length) {
      if (buf.length - pos > this.#maxRecord) throw new FastPathUnsupported("a very long record");
      this.#tail = buf.slice(pos);
    }
  }

  /** Reads the complete records of `buf` (all of them when `last`); returns where the first incomplete one starts. */
  #consume(buf: Uint8Array, last: boolean): number {
    this.buf = buf;
    this.view = viewOf(buf);
    // Lines take a fast lane; what it leaves (see its stops) goes through #record, then the
    // lane goes on. With WebAssembly SIMD the lane goes from one comma, quote, CR or line
    // break to the next (#plainPositions, CRLF line ends included); without, it looks at every
    // byte (#plainLines), in a buffer without a CR only.
    const lane = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf(CR) === -1;
    const scanner = structuralScanner();
    if (scanner !== undefined) {
      const found = scanner.scan(buf);
      this.#positions = found.positions;
      this.#specials = found.specials;
      this.#cursor = 0;
      this.#specialCursor = 0;
    }
    let pos = 0;
    for (;;) {
      if (this.#sawHeader) {
        if (scanner !== undefined) pos = this.#plainPositions(buf, pos, lane);
        else if (lane) pos = this.#plainLines(buf, pos);
      }
      const end = this.#record(buf, pos, last);
      if (end === -1) break;
      pos = end;
    }
    return pos;
  }

  /**
   * Reads the complete lines from `pos` on (in a buffer without CRs): what {@link #record} does
   * with them, with only commas, quotes and line breaks to look for. A quoted field is read in
   * the lane when it is followed by a comma or a line break; anything else (a quote inside an
   * unquoted field, text after a closing quote, a line the buffer does not hold whole) stops
   * it. Returns where it stopped: the start of that line.
   */
  #plainLines(buf: Uint8Array, pos: number): number {
    const n = buf.length;
    let lineStart = pos;
    let field = 0;
    let from = pos;
    let blank = true;
    /** Line breaks inside the line's quoted fields (csv-parse counts each as a line). */
    let inner = 0;
    this.#clearSlots();
    let i = pos;
    while (i < n) {
      let b = buf[i]!;
      // Every byte above the comma is field content (quote 34, line break 10, comma 44):
      // skipped in a loop of its own, the tightest there is (a fifth faster than a test per
      // byte in the loop below).
      while (b > COMMA && ++i < n) b = buf[i]!;
      if (i >= n) break;
      let fieldStart = from;
      let fieldEnd = i;
      let doubled = 0;
      if (b === QUOTE) {
        if (i !== from) return lineStart; // a quote inside an unquoted field
        let j = i + 1;
        for (;;) {
          if (j + 1 >= n) return lineStart; // the closing quote and what follows are not here
          const c = buf[j]!;
          if (c === QUOTE) {
            if (buf[j + 1] !== QUOTE) break;
            doubled = 1;
            j += 2;
            continue;
          }
          if (c === LF) inner++;
          j++;
        }
        b = buf[j + 1]!;
        if (b !== COMMA && b !== LF) return lineStart; // text after the closing quote
        fieldStart = i + 1;
        fieldEnd = j;
        i = j + 1;
      } else if (b !== COMMA && b !== LF) {
        i++;
        continue;
      }
      this.#keep(field, fieldStart, fieldEnd, doubled);
      if (blank && !isBlankBytes(buf, fieldStart, fieldEnd)) blank = false;
      field++;
      // Past the comma or line break.
      from = ++i;
      if (b === COMMA) continue;
      this.#line += inner + 1;
      if (i - 1 > lineStart) this.#onRecord(field, this.#line, blank);
      lineStart = i;
      field = 0;
      blank = true;
      inner = 0;
      this.#clearSlots();
    }
    return lineStart;
  }

  /**
   * {@link #plainLines} over the buffer's structural bytes (found by the scanner) instead of
   * each byte: the same records, fields, line numbers and stops. A line without a quote is the
   * commas between two line breaks, so its fields are found without looking at the others; a
   * line with one is walked ({@link #walkLine}). A line may end with CRLF; in a buffer with
   * other CRs (`noCr` false), a line with a quote or a CR of its own stops the lane, as do
   * the stops of #plainLines.
   */
  #plainPositions(buf: Uint8Array, pos: number, noCr: boolean): number {
    const fieldOf = this.#fieldOf;
    const slots = this.start.length;
    const starts = this.start;
    const ends = this.end;
    const escaped = this.escaped;
    const at = this.#positions;
    const specials = this.#specials;
    const specialCount = specials.length;
    // The first structural byte at or after pos, and the first special at or after it (the
    // lane moves forward, but after a stop #record may have read less than the lane looked at).
    let k = firstAtOrAfter(at, at.length, this.#cursor, pos);
    let sp = firstAtOrAfter(specials, specialCount, this.#specialCursor, k);
    let lineStart = pos;
    while (sp < specialCount) {
      const e = specials[sp]!;
      const p = at[e]!;
      /** Past the line's end: 1 after LF, 2 after CRLF. */
      let step = 1;
      if (buf[p] !== LF) {
        if (buf[p] === CR && e + 1 < at.length && at[e + 1] === p + 1 && buf[p + 1] === LF) step = 2;
        else {
          // A quote in the line, or a CR of its own.
          if (!noCr || buf[p] !== QUOTE) break;
          const next = this.#walkLine(buf, lineStart, k);
          if (next === -1) break;
          k = next;
          lineStart = at[next - 1]! + 1;
          while (sp < specialCount && specials[sp]! < k) sp++;
          continue;
        }
      }
      // Fields: up to the commas at k .. e - 1, then up to the line break (or its CR) at e.
      const fields = e - k + 1;
      let blank = true;
      for (let f = 0; f < fields && blank; f++)
        blank = isBlankBytes(buf, f === 0 ? lineStart : at[k + f - 1]! + 1, at[k + f]!);
      for (let slot = 0; slot < slots; slot++) {
        const f = fieldOf[slot]!;
        escaped[slot] = 0;
        if (f < 0 || f >= fields) {
          starts[slot] = -1;
          continue;
        }
        starts[slot] = f === 0 ? lineStart : at[k + f - 1]! + 1;
        ends[slot] = at[k + f]!;
      }
      this.#line++;
      if (p > lineStart) this.#onRecord(fields, this.#line, blank);
      lineStart = p + step;
      k = e + step;
      sp += step;
    }
    this.#cursor = k;
    this.#specialCursor = sp;
    return lineStart;
  }

  /**
   * Reads the line at `lineStart` (its first structural byte at `k`) from one structural byte
   * to the next, as {@link #plainLines} does: its record goes to `onRecord`. Returns the index
   * of the first structural byte after its line break, or -1 where #plainLines would stop.
   */
  #walkLine(buf: Uint8Array, lineStart: number, k: number): number {
    const at = this.#positions;
    const count = at.length;
    const n = buf.length;
    let field = 0;
    let from = lineStart;
    let blank = true;
    /** Line breaks inside the line's quoted fields (csv-parse counts each as a line). */
    let inner = 0;
    this.#clearSlots();
    while (k < count) {
      let p = at[k]!;
      let b = buf[p]!;
      let fieldStart = from;
      let fieldEnd = p;
      let doubled = 0;
      if (b === QUOTE) {
        if (p !== from) return -1; // a quote inside an unquoted field
        // The closing quote: the first quote not doubled. Commas and line breaks before it
        // are field content.
        let j = k + 1;
        let q = -1;
        while (j < count) {
          const c = at[j]!;
          if (c + 1 >= n) break; // the closing quote and what follows are not here
          if (buf[c] === QUOTE) {
            if (buf[c + 1] !== QUOTE) {
              q = c;
              break;
            }
            doubled = 1;
            j += 2; // the doubled quote's second half is the next position
            continue;
          }
          if (buf[c] === LF) inner++;
          j++;
        }
        if (q === -1) return -1;
        b = buf[q + 1]!;
        if (b !== COMMA && b !== LF) return -1; // text after the closing quote
        fieldStart = p + 1;
        fieldEnd = q;
        p = q + 1;
        k = j + 1;
      }
      // b is a comma or a line break at p.
      this.#keep(field, fieldStart, fieldEnd, doubled);
      if (blank && !isBlankBytes(buf, fieldStart, fieldEnd)) blank = false;
      field++;
      k++;
      from = p + 1;
      if (b === COMMA) continue;
      this.#line += inner + 1;
      if (p > lineStart) this.#onRecord(field, this.#line, blank);
      return k;
    }
    return -1;
  }

  /** Keeps field `field`'s span in the slot that wants it, if one does. */
  #keep(field: number, start: number, end: number, doubled: number): void {
    const wanted = this.#wanted;
    if (field >= wanted.length) return;
    const want = wanted[field]!;
    if (want < 0) return;
    this.start[want] = start;
    this.end[want] = end;
    this.escaped[want] = doubled;
  }

  /** Empties every slot before a record (a field it does not have stays -1). */
  #clearSlots(): void {
    this.start.fill(-1);
    this.escaped.fill(0);
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
    const wanted = this.#wanted;
    const header = !this.#sawHeader;
    if (header) this.#header.length = 0;
    this.start.fill(-1);
    for (;;) {
      const want = header ? -2 : field < wanted.length ? wanted[field]! : -1;
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
      if (blank && !isBlankBytes(buf, start, end)) blank = false;
      if (want === -2) {
        const text = decoder.decode(buf.subarray(start, end));
        this.#header.push(escaped ? text.replaceAll('""', '"') : text);
      } else if (want >= 0) {
        this.start[want] = start;
        this.end[want] = end;
        this.escaped[want] = escaped ? 1 : 0;
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
    if (header) {
      if (blank) return i; // blank records before the header are skipped
      this.#sawHeader = true;
      this.#headerNames = [...this.#header];
      this.#wanted = this.#onHeader(this.#headerNames);
      this.#fieldOf = new Int32Array(this.start.length).fill(-1);
      this.#wanted.forEach((slot, field) => {
        if (slot >= 0) this.#fieldOf[slot] = field;
      });
      return i;
    }
    this.#onRecord(field, this.#line, blank);
    return i;
  }

  #incomplete(last: boolean): number {
    if (last) throw new FastPathUnsupported("an unclosed quote");
    return -1;
  }

  /** The value of wanted slot `slot` of the current record as a string (doubled quotes undone). */
  text(slot: number): string {
    const text = decoder.decode(this.buf.subarray(this.start[slot]!, this.end[slot]!));
    return this.escaped[slot] === 1 ? text.replaceAll('""', '"') : text;
  }

  get sawHeader(): boolean {
    return this.#sawHeader && this.#headerNames.length > 0;
  }
}

/** What {@link scanCatalogFast} read: the report, and the file's first valid occurrence of each id, as tables. */
export interface CatalogScan {
  readonly report: FileReport;
  /** The songs of a songs file (in id order). */
  readonly tracks?: TrackTable;
  /** The user ids of a users file (in id order). */
  readonly users?: UserTable;
  /**
   * The table as its part of a compiled catalog's body (see `encodeTrackSection`), when asked
   * for: a catalog made of this one file of its kind is then compiled without encoding again.
   */
  readonly section?: Uint8Array | undefined;
  /** The SHA-256 of {@link section}. */
  readonly sectionDigest?: Uint8Array | undefined;
}

/** `duration_ms` of plain ASCII digits (an optional `+`, ASCII white space around): its value, or -1 for anything else. */
function plainDuration(buf: Uint8Array, start: number, end: number): number {
  let s = start;
  let e = end;
  while (s < e && (buf[s] === 32 || (buf[s]! >= 9 && buf[s]! <= 13))) s++;
  while (e > s && (buf[e - 1] === 32 || (buf[e - 1]! >= 9 && buf[e - 1]! <= 13))) e--;
  if (s < e && buf[s] === PLUS) s++;
  if (s === e || e - s > 15) return -1;
  let value = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Reads a songs or users file with a byte-level RFC 4180 reader, with the checks, codes,
 * messages and counts of the general reader and the built-in schemas, straight into columnar
 * tables (no object or string per row). Throws {@link FastPathUnsupported} for anything it
 * leaves to the general reader.
 */
export async function scanCatalogFast(
  source: ByteSource,
  name: string,
  kind: "songs" | "users",
  options: ScanOptions = {},
  /** Build the id lookup table now (a worker thread of a large job) instead of on demand. */
  indexed = false,
  /** The file's size, when known: the tables are sized for it once its first chunk is read. */
  fileBytes?: number,
): Promise<CatalogScan> {
  const maxShare = options.maxBadRowShare ?? DEFAULT_MAX_BAD_ROW_SHARE;
  const columns: readonly string[] = kind === "songs" ? SONG_COLUMNS : USER_COLUMNS;
  const required = kind === "songs" ? 4 : 2;
  let width = 0;
  const tally = new RowTally(name, kind, options.maxIssues ?? 100);
  const tracks = kind === "songs" ? new TrackRows() : undefined;
  const users = kind === "users" ? new UserRows() : undefined;
  // Genres by their bytes: each distinct spelling is checked once.
  const genreBytes = new ByteInterner(64, 4096);
  const genreVerdict: (number | FieldProblem)[] = [];
  let scratch = new Uint8Array(256);
  let firstRecord = true;
  const drop = tally.drop.bind(tally);
  const problem = (row: number, line: number, column: string, p: FieldProblem) =>
    drop(p.code, row, line, `${column} ${p.message}`, column);
  /** The bytes of slot `slot` with doubled quotes undone, in `scratch` (for escaped fields). */
  const unescaped = (slot: number): Uint8Array => {
    const { buf } = reader;
    const s = reader.start[slot]!;
    const e = reader.end[slot]!;
    if (e - s > scratch.length) scratch = new Uint8Array(e - s);
    let n = 0;
    for (let i = s; i < e; i++) {
      scratch[n++] = buf[i]!;
      if (buf[i] === QUOTE) i++;
    }
    return scratch.subarray(0, n);
  };
  const reader = new RecordReader(
    columns.length,
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
    (fields, line, blank) => {
      if (blank) return;
      const row = ++tally.rowsRead;
      if (fields !== width)
        return drop("column_count", row, line, `has ${fields} fields, the header has ${width}`);
      // The checks of the built-in schema, in its column order, with its codes and messages.
      const { buf, start, end } = reader;
      if (isBlankBytes(buf, start[ID]!, end[ID]!))
        return problem(row, line, kind === "users" ? "user_id" : "track_id", keyProblem("")!);
      const idQuoted = reader.escaped[ID] === 1;
      if (users !== undefined) {
        users.append(buf, start[ID]!, end[ID]!, idQuoted);
        tally.rowsKept++;
        return;
      }
      let gBytes = buf;
      let gStart = start[GENRE]!;
      let gEnd = end[GENRE]!;
      if (reader.escaped[GENRE] === 1) {
        gBytes = unescaped(GENRE);
        gStart = 0;
        gEnd = gBytes.length;
      }
      const local = genreBytes.internIn(gBytes === buf ? reader.view : viewOf(gBytes), gBytes, gStart, gEnd);
      if (local === genreVerdict.length) {
        const genre = reader.text(GENRE);
        genreVerdict.push(genreProblem(genre) ?? tracks!.genreIndex(genre));
      }
      const genre = genreVerdict[local]!;
      if (typeof genre !== "number") return problem(row, line, "track_genre", genre);
      let durationMs =
        reader.escaped[DURATION] === 1 ? -1 : plainDuration(buf, start[DURATION]!, end[DURATION]!);
      if (durationMs < 0) {
        const parsed = readDurationMs(reader.text(DURATION));
        if (typeof parsed !== "number") return problem(row, line, "duration_ms", parsed);
        durationMs = parsed;
      }
      // Duplicate ids are found when the rows are sealed (sorted by id, first occurrence kept).
      tally.rowsKept++;
      tracks!.append(buf, start[ID]!, end[ID]!, idQuoted, genre, durationMs);
      tracks!.name(buf, start[NAME]!, end[NAME]!, reader.escaped[NAME] === 1);
      tracks!.artists(buf, start[ARTISTS]!, end[ARTISTS]!, reader.escaped[ARTISTS] === 1);
    },
    Math.floor((options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES) / 2),
  );
  const it = checkUtf8(maybeGunzip(source, name, options.gzip), name)[Symbol.asyncIterator]();
  let drained = false;
  try {
    let next = await it.next();
    let first = true;
    while (!next.done) {
      const following = await it.next();
      reader.feed(next.value, following.done === true);
      if (first && fileBytes !== undefined) reserveFor((tracks ?? users)!, next.value.length, fileBytes);
      first = false;
      next = following;
    }
    drained = true;
    reader.feed(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof CsvFormatError) throw new FastPathUnsupported(err.code);
    throw err;
  } finally {
    // A row the reader refused stops the scan: release the source (and its file handle) now.
    if (!drained) await it.return?.(undefined);
  }
  if (!reader.sawHeader || tally.rowsRead === 0) throw new FastPathUnsupported("no data rows");
  const sealed = (tracks ?? users)!.seal(indexed);
  tally.rowsKept -= sealed.duplicates;
  tally.duplicateRows += sealed.duplicates;
  const report = tally.finish(maxShare);
  return kind === "songs"
    ? { report, tracks: sealed.table as TrackTable }
    : { report, users: sealed.table as UserTable };
}
