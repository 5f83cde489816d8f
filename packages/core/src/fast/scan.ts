import { Buffer } from "node:buffer";
import { type ByteSource, checkUtf8, concatBytes, DEFAULT_MAX_ROW_BYTES, maybeGunzip } from "../csv/bytes.js";
import { CsvFormatError } from "../errors/index.js";
import { type FieldProblem, keyProblem, readListenTime } from "../schema/fields.js";
import { DAYS_IN_MONTH, daysFromCivil, isLeapYear } from "../schema/listen-time.js";
import {
  DEFAULT_MAX_BAD_ROW_SHARE,
  type FileReport,
  RowTally,
  type ScanOptions,
  UNKNOWN_USER,
  unknownTrack,
} from "../validate/report.js";
import { isBlankBytes } from "./bytes.js";
import type { CatalogIndex } from "./catalog-index.js";
import { CompactKpis } from "./compact.js";
import { DuplicateFilter } from "./dedup.js";
import { ByteInterner, hashBytes, viewOf } from "./interner.js";

/**
 * The fast row source met something it leaves to the general reader (quotes, a header
 * problem, bytes that are not UTF-8, a very long row, an empty file): the caller reads the
 * file again the general way, which handles it and gives the same results.
 */
export class FastPathUnsupported extends Error {
  constructor(reason: string) {
    super(`fast path not applicable: ${reason}`);
    this.name = "FastPathUnsupported";
  }
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
// A BOM inside a field is data, as the general reader keeps it (the file's own BOM is dropped
// by parseStreamsHeader).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The digit at `i`, or a negative number so large that any sum of place values with it stays
 * negative (so one wrong byte can never make a valid-looking date).
 */
function digit(buf: Uint8Array, i: number): number {
  const d = buf[i]! - 48;
  return d >= 0 && d <= 9 ? d : -1e9;
}

/**
 * Scans a streams file as bytes: no per-row objects or strings on the common path, ids looked
 * up by their bytes, times `YYYY-MM-DD HH:MM:SS` (or with `T`, or a trailing `Z`) parsed from
 * digits; any other time form goes through {@link parseListenTime}. Same checks, codes,
 * messages and counts as the general reader with the built-in streams schema.
 */
export class StreamsScanner {
  #compact: CompactKpis | undefined;
  #index: CatalogIndex | undefined;
  /** Rows read before the catalog index was there (see {@link resolve}). */
  #pending: Pending | undefined;
  readonly #maxShare: number;
  readonly #maxLine: number;
  readonly #seen: DuplicateFilter;
  readonly #seenFractions = new Set<string>();
  #tail: Uint8Array | undefined;
  /** A view of the bytes now being split into lines, for the id lookups. */
  #view: DataView = new DataView(new ArrayBuffer(0));
  /** Whether the bytes now being split into lines hold a CR at all. */
  #crs = false;
  // Byte-range scanning: the absolute offset of the next byte fed, where the range ends (lines
  // starting at or after it belong to the next range), and whether it has been reached.
  #pos = 0;
  #end = Number.POSITIVE_INFINITY;
  #inRange = false;
  #done = false;
  #tailStart = 0;
  #sawHeader = false;
  #width = 0;
  #userCol = 0;
  #trackCol = 0;
  #timeCol = 0;
  #line = 0;
  readonly #tally: RowTally;
  // Per-row field bounds of the three key columns.
  #us = 0;
  #ue = 0;
  #ts = 0;
  #te = 0;
  #ls = 0;
  #le = 0;
  // Cache of the last date parsed by the fast time path.
  #lastDateKey = -1;
  #lastDay = 0;
  /** Rows of the common form split and hashed, waiting to be looked up together (see {@link #flush}). */
  readonly #batch = new Batch();
  /** What the slot reads of {@link #flush} saw (kept so that they are not optimised away). */
  #touched = 0;

  /**
   * Without an `index` (`undefined`), the scanner reads ahead: lines are split, times parsed
   * and ids interned locally, and the rows are counted once {@link resolve} gives the index.
   */
  constructor(
    index: CatalogIndex | undefined,
    name: string,
    options: ScanOptions = {},
    seen: DuplicateFilter = new DuplicateFilter(),
    range?: ScanRange,
  ) {
    this.#index = index;
    if (range !== undefined) {
      if (range.header !== undefined) this.#useHeader(range.header);
      this.#pos = range.firstByte;
      this.#end = range.end;
      this.#inRange = true;
    }
    this.#seen = seen;
    if (index === undefined) {
      if (range !== undefined) throw new Error("StreamsScanner: a range scan needs the index");
      this.#pending = new Pending();
    } else this.#compact = new CompactKpis(index);
    this.#tally = new RowTally(name, "streams", options.maxIssues ?? 100);
    this.#maxShare = options.maxBadRowShare ?? DEFAULT_MAX_BAD_ROW_SHARE;
    this.#maxLine = Math.floor((options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES) / 2);
  }

  /** Data rows read so far. */
  get rowsRead(): number {
    return this.#tally.rowsRead;
  }

  /** The partial counted so far (once the scanner has its index). */
  get compact(): CompactKpis {
    if (this.#compact === undefined) throw new Error("StreamsScanner.compact: no index yet (call resolve)");
    return this.#compact;
  }

  /** Whether the scanner is reading ahead without its index. */
  get waiting(): boolean {
    return this.#pending !== undefined;
  }

  /** Rows read ahead, waiting for {@link resolve}. */
  get rowsWaiting(): number {
    return this.#pending?.count ?? 0;
  }

  /**
   * Gives a scanner made without an index its index: the rows read ahead are counted, in
   * order, exactly as if the index had been there from the start, and later input is counted
   * as it comes.
   */
  resolve(index: CatalogIndex): void {
    const pending = this.#pending;
    if (pending === undefined) throw new Error("StreamsScanner.resolve: the scanner has its index");
    this.#pending = undefined;
    this.#index = index;
    this.#compact = new CompactKpis(index);
    const trackOf = pending.tracks.translate(index.tracks);
    const userOf = pending.users.translate(index.users);
    let current = -1;
    let bytes: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < pending.count; i++) {
      const c = pending.chunk[i]!;
      if (c !== current) {
        current = c;
        bytes = pending.chunks[c]!;
        this.#view = viewOf(bytes);
        this.#crs = pending.crs[c]!;
      }
      const localTrack = pending.track[i]!;
      const track = localTrack === -1 ? -1 : trackOf[localTrack]!;
      const user = localTrack === -1 ? -1 : userOf[pending.user[i]!]!;
      if (track === -1 || user === -1) {
        this.#onLine(bytes, pending.start[i]!, pending.end[i]!);
        continue;
      }
      this.#count(pending.day[i]!, track, user, pending.second[i]!, index.trackGenre[track]!);
    }
  }

  /** Counts a row of the common form whose ids are known: a listen, or a duplicate. */
  #count(day: number, track: number, user: number, second: number, genre: number): void {
    this.#line++;
    this.#tally.rowsRead++;
    if (this.#seen.add(user, track, second)) {
      this.#compact!.addOfGenre(day, track, genre, user);
      this.#tally.rowsKept++;
    } else this.#tally.duplicateRows++;
  }

  /** Feeds the next chunk of (decompressed, UTF-8-checked) bytes. */
  feed(input: Uint8Array): void {
    // A plain Uint8Array view (no copy): Buffers and Uint8Arrays in one hot loop would make
    // every byte access polymorphic.
    const chunk =
      input.constructor === Uint8Array
        ? input
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    // Whole-chunk checks (native and fast) spare the per-byte loop two tests: a quote anywhere
    // hands the file to the general reader; CRs are only looked for in chunks that have one.
    // Buffer's indexOf (memchr), not the typed array's element-by-element one.
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (bytes.indexOf(QUOTE) !== -1) throw new FastPathUnsupported("quoted fields");
    const crs = bytes.indexOf(CR) !== -1;
    if (this.#done) return;
    const base = this.#pos;
    this.#pos += chunk.length;
    let from = 0;
    if (this.#tail !== undefined) {
      const nl = chunk.indexOf(LF);
      if (nl === -1) {
        this.#tail = concatBytes(this.#tail, chunk);
        if (this.#tail.length > this.#maxLine) throw new FastPathUnsupported("a very long row");
        return;
      }
      const line = concatBytes(this.#tail, chunk.subarray(0, nl));
      this.#tail = undefined;
      this.#crs = line.indexOf(CR) !== -1;
      this.#view = viewOf(line);
      if (this.#pending !== undefined && this.#sawHeader) {
        this.#pending.useChunk(line, this.#crs);
        this.#pending.later(0, line.length);
      } else this.#onLine(line, 0, line.length);
      from = nl + 1;
    }
    this.#crs = crs;
    this.#view = viewOf(chunk);
    this.#pending?.useChunk(chunk, crs);
    from = this.#lines(chunk, from, base);
    if (from === -1) {
      this.#done = true;
      return;
    }
    if (from < chunk.length) {
      if (chunk.length - from > this.#maxLine) throw new FastPathUnsupported("a very long row");
      this.#tail = chunk.slice(from);
      this.#tailStart = base + from;
    }
  }

  /**
   * Reads the complete lines of `chunk` from `from` on (`base`: the chunk's offset in the
   * input); returns where its unread bytes start, or -1 once a range scan has passed its end.
   * The common row (no CR in the chunk, the header's field count, user and track ids starting
   * with a visible ASCII character, a listen time of the fast form, both ids known) is counted
   * here with locals; every other line goes through {@link #onLine}, which handles it in full.
   * A row leaves this lane before anything is counted, so nothing is counted twice.
   */
  #lines(chunk: Uint8Array, from: number, base: number): number {
    const end = this.#end;
    // Up to the header, line by line (the lane needs its columns).
    while (!this.#sawHeader) {
      if (base + from >= end) return -1;
      const nl = chunk.indexOf(LF, from);
      if (nl === -1) return from;
      this.#onLine(chunk, from, nl);
      from = nl + 1;
    }
    const lane = !this.#crs;
    const pending = this.#pending;
    const u = this.#userCol;
    const t = this.#trackCol;
    const l = this.#timeCol;
    const width = this.#width;
    const timeLast = l === width - 1 ? l : -1;
    const maxLine = this.#maxLine;
    const view = this.#view;
    const tracks = this.#index?.tracks;
    const users = this.#index?.users;
    const n = chunk.length;
    for (;;) {
      if (base + from >= end) {
        this.#flush(chunk, tracks, users);
        return -1;
      }
      let nl: number;
      if (lane) {
        // One pass finds the line's end and its fields: #onLine's split, with the line break
        // found in the same pass, kept apart so the hot loop works on locals only (the parity
        // property tests hold both to the general reader).
        let field = 0;
        let fieldStart = from;
        let us = 0;
        let ue = 0;
        let ts = 0;
        let te = 0;
        let ls = 0;
        let le = 0;
        let i = from;
        let guessed = false;
        for (; i < n; i++) {
          const b = chunk[i]!;
          if (b === COMMA) {
            if (field === u) {
              us = fieldStart;
              ue = i;
            } else if (field === t) {
              ts = fieldStart;
              te = i;
            } else if (field === l) {
              ls = fieldStart;
              le = i;
            }
            field++;
            fieldStart = i + 1;
            // The time as the last column: its common forms are 19 or 20 bytes, so look for
            // the line break there instead of scanning them. Only #fastTime accepting those
            // bytes (no comma or line break among them) confirms the guess; otherwise the
            // line's real end is looked up again before it goes to #onLine.
            if (field === timeLast) {
              const j = fieldStart + 19;
              if (j < n && chunk[j] === LF) {
                i = j;
                guessed = true;
                break;
              }
              if (j + 1 < n && chunk[j + 1] === LF) {
                i = j + 1;
                guessed = true;
                break;
              }
            }
          } else if (b === LF) break;
        }
        if (i === n) {
          this.#flush(chunk, tracks, users);
          return from;
        }
        nl = i;
        if (field === u) {
          us = fieldStart;
          ue = nl;
        } else if (field === t) {
          ts = fieldStart;
          te = nl;
        } else if (field === l) {
          ls = fieldStart;
          le = nl;
        }
        field++;
        if (field === width && nl - from <= maxLine && ue > us && te > ts) {
          const ub = chunk[us]!;
          const tb = chunk[ts]!;
          if (ub > 32 && ub < 127 && tb > 32 && tb < 127) {
            const second = this.#fastTime(chunk, ls, le);
            if (second >= 0 && pending !== undefined) {
              pending.row(
                from,
                nl,
                pending.tracks.internIn(view, chunk, ts, te),
                pending.users.internIn(view, chunk, us, ue),
                second,
                this.#lastDay,
              );
              from = nl + 1;
              continue;
            }
            if (second >= 0) {
              const batch = this.#batch;
              batch.add(from, nl, ts, te, us, ue, second, this.#lastDay, view);
              if (batch.count === BATCH_ROWS) this.#flush(chunk, tracks!, users!);
              from = nl + 1;
              continue;
            }
          }
        }
        this.#flush(chunk, tracks, users);
        if (guessed) nl = chunk.indexOf(LF, from);
      } else {
        nl = chunk.indexOf(LF, from);
        if (nl === -1) return from;
      }
      if (pending !== undefined) pending.later(from, nl);
      else this.#onLine(chunk, from, nl);
      from = nl + 1;
    }
  }

  /**
   * Looks up the ids of the rows batched by the lane, all tracks then all users, and counts the
   * rows in order (a row with an unknown id goes through {@link #onLine}, which reports it). The
   * lookups of a batch do not wait on each other, so their cache misses overlap: with millions
   * of users the lookup tables are far larger than the CPU's caches, and one row at a time each
   * lookup waited for memory in turn.
   */
  #flush(chunk: Uint8Array, tracks: ByteInterner | undefined, users: ByteInterner | undefined): void {
    const batch = this.#batch;
    const n = batch.count;
    if (n === 0) return;
    batch.count = 0;
    const view = batch.view!;
    const { track, user, ts, te, us, ue, trackHash, userHash } = batch;
    // First only read the slots (loads that do not wait on each other), then look up.
    this.#touched |= tracks!.touch(trackHash, n) | users!.touch(userHash, n);
    for (let i = 0; i < n; i++) track[i] = tracks!.findHashed(view, ts[i]!, te[i]!, trackHash[i]!);
    for (let i = 0; i < n; i++)
      user[i] = track[i] === -1 ? -1 : users!.findHashed(view, us[i]!, ue[i]!, userHash[i]!);
    // The genres: another random read per row (a table of 4 bytes per catalog track).
    const genre = batch.genre;
    const trackGenre = this.#index!.trackGenre;
    for (let i = 0; i < n; i++) genre[i] = user[i] === -1 ? -1 : trackGenre[track[i]!]!;
    const { from, to, second, day } = batch;
    for (let i = 0; i < n; i++) {
      if (user[i] === -1) this.#onLine(chunk, from[i]!, to[i]!);
      else this.#count(day[i]!, track[i]!, user[i]!, second[i]!, genre[i]!);
    }
  }

  /** `true` once a range scan has read every line that starts in its range. */
  get done(): boolean {
    return this.#done;
  }

  /** Ends a range scan: what it counted, its physical lines and its duplicate keys, for {@link mergeRanges}. */
  finishRange(): RangeResult {
    if (this.#tail !== undefined && !this.#done && this.#tailStart < this.#end) {
      const tail = this.#tail;
      this.#tail = undefined;
      this.#crs = tail.indexOf(CR) !== -1;
      this.#view = viewOf(tail);
      this.#onLine(tail, 0, tail.length, true);
    }
    return {
      report: this.#tally.report(),
      lines: this.#line,
      compact: this.compact,
      seen: this.#seen.keys(),
      seenFractions: [...this.#seenFractions],
    };
  }

  /** Ends the input and returns the report (the compact partial is {@link compact}). */
  finish(): FileReport {
    if (this.#inRange) throw new Error("StreamsScanner.finish: a range scan ends with finishRange()");
    if (this.#pending !== undefined) throw new Error("StreamsScanner.finish: no index yet (call resolve)");
    if (this.#tail !== undefined) {
      const tail = this.#tail;
      this.#tail = undefined;
      this.#crs = tail.indexOf(CR) !== -1;
      this.#view = viewOf(tail);
      this.#onLine(tail, 0, tail.length, true);
    }
    if (!this.#sawHeader || this.#tally.rowsRead === 0) throw new FastPathUnsupported("no data rows");
    return this.#tally.finish(this.#maxShare);
  }

  #header(buf: Uint8Array, start: number, end: number): void {
    this.#useHeader(parseStreamsHeader(decoder.decode(buf.subarray(start, end))));
  }

  #useHeader(header: StreamsHeader): void {
    this.#userCol = header.userCol;
    this.#trackCol = header.trackCol;
    this.#timeCol = header.timeCol;
    this.#width = header.width;
    this.#sawHeader = true;
  }

  /** The header this scanner read (or was given). */
  get header(): StreamsHeader | undefined {
    return this.#sawHeader
      ? { userCol: this.#userCol, trackCol: this.#trackCol, timeCol: this.#timeCol, width: this.#width }
      : undefined;
  }

  /** Drops a row for a field's problem, reported as the general reader reports it. */
  #problem(row: number, column: string, problem: FieldProblem): void {
    this.#tally.drop(problem.code, row, this.#line, `${column} ${problem.message}`, column);
  }

  #drop(code: string, row: number, message: string, column?: string): void {
    this.#tally.drop(code, row, this.#line, message, column);
  }

  #onLine(buf: Uint8Array, start: number, lineEnd: number, last = false): void {
    this.#line++;
    // CRLF: the CR belongs to the line break. At the very end, without LF, a CR stays data.
    const end = !last && lineEnd > start && buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    if (end - start > this.#maxLine) throw new FastPathUnsupported("a very long row");
    if (!this.#sawHeader) {
      if (start === end || isBlankBytes(buf, start, end, true)) {
        if (start === end) return;
        throw new FastPathUnsupported("blank lines before the header");
      }
      this.#header(buf, start, end);
      return;
    }
    if (start === end) return;
    // Split into fields, keeping the bounds of the three key columns.
    const u = this.#userCol;
    const t = this.#trackCol;
    const l = this.#timeCol;
    let field = 0;
    let fieldStart = start;
    let us = 0;
    let ue = 0;
    let ts = 0;
    let te = 0;
    let ls = 0;
    let le = 0;
    let loneCr = 0;
    const crs = this.#crs;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b === COMMA) {
        if (field === u) {
          us = fieldStart;
          ue = i;
        } else if (field === t) {
          ts = fieldStart;
          te = i;
        } else if (field === l) {
          ls = fieldStart;
          le = i;
        }
        field++;
        fieldStart = i + 1;
      } else if (crs && b === CR) {
        loneCr++;
      }
    }
    if (field === u) {
      us = fieldStart;
      ue = end;
    } else if (field === t) {
      ts = fieldStart;
      te = end;
    } else if (field === l) {
      ls = fieldStart;
      le = end;
    }
    field++;
    // csv-parse counts a CR that is not part of CRLF as a line break too (within the record),
    // except a CR that ends the input, which it keeps as data without counting.
    if (last && end > start && buf[end - 1] === CR) loneCr--;
    this.#line += loneCr;
    this.#us = us;
    this.#ue = ue;
    this.#ts = ts;
    this.#te = te;
    this.#ls = ls;
    this.#le = le;
    const userEmpty = field > u && isBlankBytes(buf, this.#us, this.#ue);
    if ((field !== this.#width || userEmpty) && isBlankBytes(buf, start, end, true)) return;
    const row = ++this.#tally.rowsRead;
    if (field !== this.#width) {
      this.#drop("column_count", row, `has ${field} fields, the header has ${this.#width}`);
      return;
    }
    if (userEmpty) {
      this.#problem(row, "user_id", keyProblem("")!);
      return;
    }
    if (isBlankBytes(buf, this.#ts, this.#te)) {
      this.#problem(row, "track_id", keyProblem("")!);
      return;
    }

    // listen_time: the common forms straight from the digits, the rest through parseListenTime.
    let day: number;
    let second: number;
    let fraction: string | undefined;
    const fast = this.#fastTime(buf, this.#ls, this.#le);
    if (fast >= 0) {
      second = fast;
      day = this.#lastDay;
    } else {
      const parsed = readListenTime(decoder.decode(buf.subarray(this.#ls, this.#le)));
      if ("code" in parsed) {
        this.#problem(row, "listen_time", parsed);
        return;
      }
      day = Math.floor(Math.floor(parsed.epochMs / 1000) / 86400);
      const dot = parsed.instant.indexOf(".");
      second = Number(dot === -1 ? parsed.instant : parsed.instant.slice(0, dot));
      fraction = dot === -1 ? undefined : parsed.instant;
    }

    const track = this.#index!.tracks.findIn(this.#view, this.#ts, this.#te);
    if (track === -1) {
      this.#problem(row, "track_id", unknownTrack(decoder.decode(buf.subarray(this.#ts, this.#te))));
      return;
    }
    const user = this.#index!.users.findIn(this.#view, this.#us, this.#ue);
    if (user === -1) {
      this.#problem(row, "user_id", UNKNOWN_USER);
      return;
    }
    const fresh =
      fraction === undefined
        ? this.#seen.add(user, track, second)
        : !this.#seenFractions.has(`${user}:${track}:${fraction}`);
    if (!fresh) {
      this.#tally.duplicateRows++;
      return;
    }
    if (fraction !== undefined) this.#seenFractions.add(`${user}:${track}:${fraction}`);
    this.compact.add(day, track, user);
    this.#tally.rowsKept++;
  }

  /**
   * Epoch seconds of `YYYY-MM-DD HH:MM:SS` (separator ` `, `T` or `t`, optionally a trailing
   * `Z`/`z`), with `#lastDay` set to its day number; -2 when the bytes are another form (or
   * before 1970, left to the general parser). Without an offset the listen date is the date
   * written, so only year 0000 could fall outside 0001-01-01 .. 9999-12-31: it is before 1970,
   * and {@link readListenTime} drops it as `listen_date_out_of_range`.
   */
  #fastTime(buf: Uint8Array, start: number, end: number): number {
    let n = end - start;
    if (n === 20 && (buf[end - 1] === 90 || buf[end - 1] === 122)) n = 19;
    if (n !== 19) return -2;
    const s = start;
    if (buf[s + 4] !== 45 || buf[s + 7] !== 45 || buf[s + 13] !== 58 || buf[s + 16] !== 58) return -2;
    const sep = buf[s + 10];
    if (sep !== 32 && sep !== 84 && sep !== 116) return -2;
    const dateKey =
      (digit(buf, s) * 1000 + digit(buf, s + 1) * 100 + digit(buf, s + 2) * 10 + digit(buf, s + 3)) * 10000 +
      (digit(buf, s + 5) * 10 + digit(buf, s + 6)) * 100 +
      digit(buf, s + 8) * 10 +
      digit(buf, s + 9);
    const hour = digit(buf, s + 11) * 10 + digit(buf, s + 12);
    const minute = digit(buf, s + 14) * 10 + digit(buf, s + 15);
    const sec = digit(buf, s + 17) * 10 + digit(buf, s + 18);
    if (dateKey < 0 || hour < 0 || minute < 0 || sec < 0 || hour > 23 || minute > 59 || sec > 59) return -2;
    if (dateKey !== this.#lastDateKey) {
      const year = Math.floor(dateKey / 10000);
      const month = Math.floor(dateKey / 100) % 100;
      const day = dateKey % 100;
      if (month < 1 || month > 12 || day < 1) return -2;
      const monthDays = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
      if (day > monthDays || year < 1) return -2;
      this.#lastDateKey = dateKey;
      this.#lastDay = daysFromCivil(year, month, day);
    }
    const second = this.#lastDay * 86400 + hour * 3600 + minute * 60 + sec;
    return second < 0 ? -2 : second;
  }
}

/** Rows the lane looks up together. */
const BATCH_ROWS = 64;

/** Rows of the common form, split and hashed, for {@link StreamsScanner}'s batched lookups. */
class Batch {
  count = 0;
  view: DataView | undefined;
  readonly from = new Int32Array(BATCH_ROWS);
  readonly to = new Int32Array(BATCH_ROWS);
  readonly ts = new Int32Array(BATCH_ROWS);
  readonly te = new Int32Array(BATCH_ROWS);
  readonly us = new Int32Array(BATCH_ROWS);
  readonly ue = new Int32Array(BATCH_ROWS);
  readonly trackHash = new Int32Array(BATCH_ROWS);
  readonly userHash = new Int32Array(BATCH_ROWS);
  readonly second = new Float64Array(BATCH_ROWS);
  readonly day = new Int32Array(BATCH_ROWS);
  readonly track = new Int32Array(BATCH_ROWS);
  readonly user = new Int32Array(BATCH_ROWS);
  readonly genre = new Int32Array(BATCH_ROWS);

  add(
    from: number,
    to: number,
    ts: number,
    te: number,
    us: number,
    ue: number,
    second: number,
    day: number,
    view: DataView,
  ): void {
    const i = this.count++;
    this.view = view;
    this.from[i] = from;
    this.to[i] = to;
    this.ts[i] = ts;
    this.te[i] = te;
    this.us[i] = us;
    this.ue[i] = ue;
    this.trackHash[i] = hashBytes(view, ts, te);
    this.userHash[i] = hashBytes(view, us, ue);
    this.second[i] = second;
    this.day[i] = day;
  }
}

/**
 * Rows a {@link StreamsScanner} read before it had its catalog index, in input order: the
 * lines of the common form with their ids interned locally, time and day; every other line by
 * its place, for the full per-line path. The chunks are kept until the rows are counted.
 */
class Pending {
  readonly tracks = new ByteInterner();
  readonly users = new ByteInterner();
  readonly chunks: Uint8Array[] = [];
  readonly crs: boolean[] = [];
  count = 0;
  chunk = new Int32Array(1024);
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  /** Local track id, or -1 for a line left to the per-line path. */
  track = new Int32Array(1024);
  user = new Int32Array(1024);
  day = new Int32Array(1024);
  second = new Float64Array(1024);

  /** The chunk the next rows are in. */
  useChunk(bytes: Uint8Array, crs: boolean): void {
    this.chunks.push(bytes);
    this.crs.push(crs);
  }

  row(start: number, end: number, track: number, user: number, second: number, day: number): void {
    if (this.count === this.chunk.length) this.#grow();
    const i = this.count++;
    this.chunk[i] = this.chunks.length - 1;
    this.start[i] = start;
    this.end[i] = end;
    this.track[i] = track;
    this.user[i] = user;
    this.second[i] = second;
    this.day[i] = day;
  }

  /** A line for the per-line path. */
  later(start: number, end: number): void {
    this.row(start, end, -1, -1, 0, 0);
  }

  #grow(): void {
    const grow = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.chunk = grow(this.chunk);
    this.start = grow(this.start);
    this.end = grow(this.end);
    this.track = grow(this.track);
    this.user = grow(this.user);
    this.day = grow(this.day);
    this.second = grow(this.second);
  }
}

/**
 * Rows a scan reads ahead while waiting for its catalog index, at most: beyond that it waits
 * (with the chunks they lie in, about 80 bytes a row).
 */
const MAX_WAITING_ROWS = 1 << 20;

/**
 * Scans a whole streams file with {@link StreamsScanner}. Throws {@link FastPathUnsupported}
 * when the general reader must handle the file instead.
 *
 * `index` may be a promise (the catalog still being read elsewhere): the scan then reads ahead
 * (up to about a million rows) and counts the rows once the index is there, with the same
 * results.
 */
export async function scanStreamsFast(
  source: ByteSource,
  name: string,
  index: CatalogIndex | PromiseLike<CatalogIndex>,
  options: ScanOptions = {},
): Promise<{ report: FileReport; compact: CompactKpis }> {
  const later = "then" in index ? index : undefined;
  let arrived: CatalogIndex | undefined;
  later?.then(
    (value) => {
      arrived = value;
    },
    () => {},
  );
  const scanner = new StreamsScanner(
    later === undefined ? (index as CatalogIndex) : undefined,
    name,
    options,
  );
  try {
    for await (const chunk of checkUtf8(maybeGunzip(source, name, options.gzip), name)) {
      scanner.feed(chunk);
      if (scanner.waiting) {
        if (arrived !== undefined) scanner.resolve(arrived);
        else if (scanner.rowsWaiting >= MAX_WAITING_ROWS) scanner.resolve(await later!);
      }
      options.onProgress?.({ file: name, rowsRead: scanner.rowsRead });
    }
  } catch (err) {
    if (err instanceof CsvFormatError) throw new FastPathUnsupported(err.code);
    throw err;
  }
  if (scanner.waiting) scanner.resolve(await later!);
  const report = scanner.finish();
  return { report, compact: scanner.compact };
}

/** Where the three columns a streams file needs are, and how many fields a row has. */
export interface StreamsHeader {
  readonly userCol: number;
  readonly trackCol: number;
  readonly timeCol: number;
  readonly width: number;
}

/**
 * Reads a streams header line (without its line break) the way the general reader does:
 * names trimmed, matched case-sensitively, a BOM dropped. Anything the fast path leaves to the
 * general reader (quotes, a missing or repeated column) is {@link FastPathUnsupported}.
 */
export function parseStreamsHeader(line: string): StreamsHeader {
  const text = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  if (text.includes('"')) throw new FastPathUnsupported("a quoted header");
  const names = text
    .replace(/\r$/, "")
    .split(",")
    .map((h) => h.trim());
  const col = (name: string) => {
    const first = names.indexOf(name);
    if (first === -1 || names.indexOf(name, first + 1) !== -1)
      throw new FastPathUnsupported(`header column ${name}`);
    return first;
  };
  return {
    userCol: col("user_id"),
    trackCol: col("track_id"),
    timeCol: col("listen_time"),
    width: names.length,
  };
}

/** A byte range of a streams file for {@link StreamsScanner}: see {@link planRanges}. */
export interface ScanRange {
  /** The file's header: given to ranges after the first, which do not read it. */
  readonly header?: StreamsHeader | undefined;
  /** Absolute offset of the first byte the scanner is fed (just after a line break). */
  readonly firstByte: number;
  /** Lines starting at or after this offset belong to the next range. */
  readonly end: number;
}

/** What one range of a file counted: see {@link mergeRanges}. */
export interface RangeResult {
  readonly report: FileReport;
  /** Physical lines read (to number the next range's lines). */
  readonly lines: number;
  readonly compact: CompactKpis;
  /** Every distinct key of the range ({@link DuplicateFilter.keys}). */
  readonly seen: Int32Array;
  /** Duplicate keys of rows with a fraction of a second: `user:track:instant`. */
  readonly seenFractions: readonly string[];
}
