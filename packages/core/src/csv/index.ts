import type { CsvError as CsvParseError } from "csv-parse";
import { CsvFormatError } from "../errors/index.js";
import { type ByteSource, checkUtf8, DEFAULT_MAX_ROW_BYTES, maybeGunzip } from "./bytes.js";

export { type ByteSource, DEFAULT_MAX_ROW_BYTES } from "./bytes.js";

/** Options of {@link readCsv}. */
export interface CsvReadOptions {
  /** Name of the file, used in error messages. @default "input" */
  readonly name?: string | undefined;
  /** A row (all its fields) longer than this many bytes fails with `row_too_large`. @default 1 MiB */
  readonly maxRowBytes?: number | undefined;
  /**
   * Whether the bytes are gzip-compressed. By default gzip is recognised by its magic bytes;
   * `true` additionally fails with `invalid_gzip` when they are missing.
   */
  readonly gzip?: boolean | undefined;
}

/** A batch of CSV records, in file order. */
export interface CsvBatch {
  /** The records; each is the list of its fields, unquoted. */
  readonly records: string[][];
  /** For each record, the 1-based physical line on which it ends. */
  readonly lines: number[];
}

/** The synchronous core of csv-parse's `Parser` (csv-parse 7, `lib/api/index.js`). */
interface ParserApi {
  parse(
    chunk: Buffer | undefined,
    end: boolean,
    push: (record: string[]) => void,
    close: () => void,
  ): Error | undefined;
  /** `bytes`: the stream offset the parser has reached (after a record's delimiter when it calls `push`). */
  readonly info: { readonly lines: number; readonly bytes: number };
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

const CSV_ERROR_TO_LINE = /line (\d+)/;

/**
 * Streams the records of a CSV file (RFC 4180: quoted fields, doubled quotes, quoted line
 * breaks; CRLF or LF; UTF-8 with or without BOM; gzip recognised by magic bytes) in batches,
 * holding at most one input chunk and one row at a time. Empty lines are skipped.
 *
 * Throws {@link CsvFormatError} with code `invalid_encoding`, `invalid_gzip`, `malformed_csv`
 * or `row_too_large`; errors of the byte source pass through unchanged.
 *
 * @example
 * for await (const { records } of readCsv(createReadStream("streams.csv"))) console.log(records.length);
 */
export async function* readCsv(source: ByteSource, options: CsvReadOptions = {}): AsyncGenerator<CsvBatch> {
  const name = options.name ?? "input";
  const maxRowBytes = options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES;
  // Loaded on first use: the fast row sources read most files, and a program that never
  // needs csv-parse does not pay for loading it.
  const { CsvError, Parser } = await import("csv-parse");
  // csv-parse's synchronous core (`Parser#api.parse`) lets us collect a whole chunk's records
  // without a stream round trip per record. The version is pinned; tests cover this use.
  const api = (
    new Parser({
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      // Empty lines are skipped below, where each record's bytes are known.
      skip_empty_lines: false,
      record_delimiter: ["\r\n", "\n"],
      // csv-parse counts the decoded characters of the fields (no separators, no quotes, the
      // last character not at all): it only bounds memory. The row's bytes are checked in `push`.
      max_record_size: maxRowBytes,
    }) as unknown as { api: ParserApi }
  ).api;

  // The stream offset where the next record starts, the current chunk and its offset, and the
  // bytes just before it (a record delimiter may straddle two chunks).
  let recordStart: number | undefined;
  let head: number[] = [];
  let chunkStart = 0;
  let current: Uint8Array = new Uint8Array(0);
  let before: number[] = [];
  const byteAt = (offset: number): number | undefined =>
    offset >= chunkStart ? current[offset - chunkStart] : before[before.length - (chunkStart - offset)];

  let records: string[][] = [];
  let lines: number[] = [];
  const push = (record: string[]) => {
    const end = api.info.bytes;
    // The first record starts after the byte-order mark, which the parser skips.
    const start = recordStart ?? (UTF8_BOM.every((b, i) => head[i] === b) ? UTF8_BOM.length : 0);
    recordStart = end;
    const delimiter = byteAt(end - 1) !== 0x0a ? 0 : byteAt(end - 2) === 0x0d ? 2 : 1;
    const rowBytes = end - start - delimiter;
    if (rowBytes === 0) return; // an empty line
    if (rowBytes > maxRowBytes) {
      throw new CsvFormatError(
        "row_too_large",
        `${name}: a row at line ${api.info.lines} is longer than ${maxRowBytes} bytes`,
        { file: name, line: api.info.lines },
      );
    }
    records.push(record);
    lines.push(api.info.lines);
  };
  const fail = (err: unknown): never => {
    throw toFormatError(err, CsvError, name, maxRowBytes);
  };

  for await (const chunk of checkUtf8(maybeGunzip(source, name, options.gzip), name)) {
    if (head.length < UTF8_BOM.length) head = [...head, ...chunk.subarray(0, UTF8_BOM.length)];
    before = [...before, ...current.subarray(Math.max(0, current.length - 8))].slice(-8);
    chunkStart += current.length;
    current = chunk;
    const err = api.parse(
      Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      false,
      push,
      () => {},
    );
    if (err !== undefined) fail(err);
    if (records.length > 0) {
      yield { records, lines };
      records = [];
      lines = [];
    }
  }
  const err = api.parse(undefined, true, push, () => {});
  if (err !== undefined) fail(err);
  if (records.length > 0) yield { records, lines };
}

function toFormatError(
  err: unknown,
  csvError: typeof CsvParseError,
  name: string,
  maxRowBytes: number,
): CsvFormatError | unknown {
  if (!(err instanceof csvError)) return err;
  const line = Number(CSV_ERROR_TO_LINE.exec(err.message)?.[1] ?? Number.NaN);
  const where = Number.isNaN(line) ? "" : ` at line ${line}`;
  if (err.code === "CSV_MAX_RECORD_SIZE") {
    return new CsvFormatError("row_too_large", `${name}: a row${where} is longer than ${maxRowBytes} bytes`, {
      file: name,
      line: Number.isNaN(line) ? undefined : line,
      cause: err,
    });
  }
  return new CsvFormatError("malformed_csv", `${name}: malformed CSV${where}: ${err.message}`, {
    file: name,
    line: Number.isNaN(line) ? undefined : line,
    cause: err,
  });
}
