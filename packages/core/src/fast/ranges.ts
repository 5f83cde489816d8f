import { checkUtf8 } from "../csv/bytes.js";
import type { ByteSource } from "../csv/index.js";
import { CsvFormatError } from "../errors/index.js";
import {
  DEFAULT_MAX_BAD_ROW_SHARE,
  type FileReport,
  RowTally,
  type ScanOptions,
} from "../validate/report.js";
import type { CatalogIndex } from "./catalog-index.js";
import { CompactKpis } from "./compact.js";
import { addKeys, DuplicateFilter } from "./dedup.js";
import { FastPathUnsupported, type RangeResult, type StreamsHeader, StreamsScanner } from "./scan.js";

const LF = 10;

/** A byte range `[start, end)` of a file; a range owns every line that starts inside it. */
export interface ByteSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * Splits a file of `size` bytes into `parts` ranges of about equal size (none smaller than
 * `minBytes`). Ranges need not fall on line boundaries: each owns the lines that start in it.
 * The unit of distribution within one file: ranges are scanned independently (worker threads
 * here, separate invocations elsewhere) and merged with {@link mergeRanges}.
 */
export function planRanges(size: number, parts: number, minBytes = 8 * 1024 * 1024): ByteSpan[] {
  const count = Math.max(1, Math.min(parts, Math.floor(size / minBytes)));
  const step = Math.ceil(size / count);
  return Array.from({ length: count }, (_, i) => ({ start: i * step, end: Math.min(size, (i + 1) * step) }));
}

/** Where to start reading a range: one byte early, so a line starting exactly at `start` is seen whole. */
export function rangeReadStart(span: ByteSpan): number {
  return Math.max(0, span.start - 1);
}

/**
 * Scans one byte range of an uncompressed streams file. `source` holds the file's bytes from
 * {@link rangeReadStart} on (reading may stop once the range's last line is complete:
 * `AbortSignal`-free, the scan simply stops pulling). The first range reads the header; the
 * others are given it. Throws {@link FastPathUnsupported} like the whole-file scan.
 */
export async function scanStreamsRange(
  source: ByteSource,
  name: string,
  index: CatalogIndex,
  span: ByteSpan,
  header: StreamsHeader | undefined,
  options: ScanOptions = {},
): Promise<RangeResult> {
  let firstByte = rangeReadStart(span);
  let skipping = span.start > 0;
  let scanner: StreamsScanner | undefined;
  const make = () =>
    new StreamsScanner(index, name, options, new DuplicateFilter(), { header, firstByte, end: span.end });
  if (span.start > 0 && header === undefined)
    throw new Error("scanStreamsRange: ranges after the first need the header");
  // Drop the bytes of the line that started before the range (up to its line break) before the
  // UTF-8 check: the range may begin inside a multi-byte character.
  async function* afterFirstBreak(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (!skipping) {
        yield chunk;
        continue;
      }
      const nl = chunk.indexOf(LF);
      if (nl === -1) {
        firstByte += chunk.length;
        continue;
      }
      skipping = false;
      firstByte += nl + 1;
      if (nl + 1 < chunk.length) yield chunk.subarray(nl + 1);
    }
  }
  try {
    for await (const chunk of checkUtf8(afterFirstBreak(), name)) {
      scanner ??= make();
      scanner.feed(chunk);
      if (scanner.done) break;
    }
  } catch (err) {
    if (err instanceof CsvFormatError) throw new FastPathUnsupported(err.code);
    throw err;
  }
  scanner ??= make();
  return scanner.finishRange();
}

const ISSUE_PREFIX = /^row \d+ \(line \d+\): /;

/**
 * Merges the range results of one file, in file order, into the file's report and partial,
 * exactly as one scan of the whole file gives them: rows and lines renumbered, and a row that
 * duplicates a row of an earlier range taken back (a duplicate, not a listen).
 */
export function mergeRanges(
  name: string,
  index: CatalogIndex,
  ranges: readonly RangeResult[],
  options: ScanOptions = {},
): { report: FileReport; compact: CompactKpis } {
  const tally = new RowTally(name, "streams", options.maxIssues ?? 100);
  const compact = new CompactKpis(index);
  const seen = new DuplicateFilter();
  const seenFractions = new Set<string>();
  let lines = 0;
  for (const range of ranges) {
    const r = range.report;
    for (const issue of r.issues) {
      tally.drop(
        issue.code,
        issue.row + tally.rowsRead,
        issue.line + lines,
        issue.message.replace(ISSUE_PREFIX, ""),
        issue.column,
      );
    }
    tally.badRows += r.badRows - r.issues.length;
    for (const [code, n] of Object.entries(r.badRowsByCode)) {
      tally.badRowsByCode[code] =
        (tally.badRowsByCode[code] ?? 0) + n - r.issues.filter((i) => i.code === code).length;
    }
    tally.rowsRead += r.rowsRead;
    tally.rowsKept += r.rowsKept;
    tally.duplicateRows += r.duplicateRows;
    lines += range.lines;
    compact.merge(range.compact);
    // Keys already seen in an earlier range: this range counted a duplicate as a listen.
    addKeys(seen, range.seen, (_user, track, second) => takeBack(Math.floor(second / 86400), track));
    for (const key of range.seenFractions) {
      if (seenFractions.has(key)) {
        const [, track, instant] = key.split(":");
        takeBack(Math.floor(Math.floor(Number(instant)) / 86400), Number(track));
      } else seenFractions.add(key);
    }
  }
  function takeBack(day: number, track: number): void {
    compact.remove(day, track);
    tally.rowsKept--;
    tally.duplicateRows++;
  }
  if (tally.rowsRead === 0) throw new FastPathUnsupported("no data rows");
  return { report: tally.finish(options.maxBadRowShare ?? DEFAULT_MAX_BAD_ROW_SHARE), compact };
}
