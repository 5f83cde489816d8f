// Reports and their parts, without the CSV parser or zod: the fast readers (and their worker
// threads) use these.
import type { CsvReadOptions } from "../csv/index.js";
import type { FileKind, TableSchema } from "../schema/index.js";

/** Why a single row was dropped. Built-in codes are listed; custom checks may add their own. */
export type RowIssueCode =
  | "empty_field"
  | "invalid_listen_time"
  | "listen_date_out_of_range"
  | "invalid_duration_ms"
  | "invalid_genre"
  | "column_count"
  | "unknown_track"
  | "unknown_user"
  | "invalid_value"
  | (string & {});

/** One dropped row: a machine code, where it is, and a message for people. */
export interface RowIssue {
  readonly code: RowIssueCode;
  /** 1-based number of the data row (the header is not counted). */
  readonly row: number;
  /** 1-based physical line on which the row ends. */
  readonly line: number;
  /** The column at fault, when one is. */
  readonly column?: string;
  readonly message: string;
}

/** Why a whole file was rejected. */
export type FileRejectionCode =
  | "empty_file"
  | "header_only"
  | "missing_column"
  | "duplicate_column"
  | "invalid_encoding"
  | "invalid_gzip"
  | "malformed_csv"
  | "row_too_large"
  | "too_many_bad_rows";

/** The reason a file was rejected. */
export interface FileRejection {
  readonly code: FileRejectionCode;
  readonly message: string;
  /** 1-based physical line the problem was found on, when known. */
  readonly line?: number;
  /** Columns at fault (`missing_column`, `duplicate_column`). */
  readonly columns?: readonly string[];
}

/** What scanning one file found. Row counts exclude the header and blank lines. */
export interface FileReport {
  readonly file: string;
  readonly kind: FileKind;
  /** `true` when the file was accepted; its kept rows count. */
  readonly accepted: boolean;
  readonly rejection?: FileRejection;
  /** Data rows read. */
  readonly rowsRead: number;
  /** Rows that passed every check and were used. */
  readonly rowsKept: number;
  /** Exact duplicates of an earlier row of the same file (counted once, not bad). */
  readonly duplicateRows: number;
  /** Rows dropped as bad. */
  readonly badRows: number;
  /** Bad rows by {@link RowIssueCode}. */
  readonly badRowsByCode: Readonly<Record<string, number>>;
  /** The first bad rows, up to `maxIssues`. */
  readonly issues: readonly RowIssue[];
}

/** Options for scanning a file. */
export interface ScanOptions extends Omit<CsvReadOptions, "name"> {
  /**
   * A file whose share of bad rows (bad / rows read) is greater than this is rejected.
   * @default 0.1
   */
  readonly maxBadRowShare?: number | undefined;
  /** How many row issues to keep in the report. @default 100 */
  readonly maxIssues?: number | undefined;
  /** Called after each batch of rows (roughly every input chunk) with the rows read so far. */
  readonly onProgress?: ((progress: ScanProgress) => void) | undefined;
}

/** Progress of a file being scanned. */
export interface ScanProgress {
  readonly file: string;
  readonly rowsRead: number;
}

/** What a row callback may answer: keep the row, count it as a duplicate, or drop it. */
export type RowVerdict =
  | undefined
  | "duplicate"
  | { readonly code: RowIssueCode; readonly column?: string; readonly message: string };

/** The problem of a streams row whose track is not in the songs catalog (message without the column). */
export function unknownTrack(trackId: string): { readonly code: "unknown_track"; readonly message: string } {
  return { code: "unknown_track", message: `'${trackId}' is not in the songs catalog` };
}

/** The problem of a streams row whose user is not in the users catalog (message without the column). */
export const UNKNOWN_USER = { code: "unknown_user", message: "is not in the users catalog" } as const;

/** Default share of bad rows above which a file is rejected. */
export const DEFAULT_MAX_BAD_ROW_SHARE = 0.1;

/**
 * Checks a header (names already trimmed) against a schema. Returns the rejection, or the
 * index of every schema column present.
 */
export function checkHeader(
  header: readonly string[],
  schema: TableSchema,
): { rejection: FileRejection } | { columns: ReadonlyMap<string, number> } {
  const seen = new Map<string, number>();
  const duplicated = new Set<string>();
  header.forEach((column, index) => {
    if (seen.has(column)) duplicated.add(column);
    else seen.set(column, index);
  });
  const missing = schema.requiredColumns.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    return {
      rejection: {
        code: "missing_column",
        message: `missing required column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `'${c}'`).join(", ")} in the header of a ${schema.kind} file`,
        columns: missing,
      },
    };
  }
  const ambiguous = [...schema.requiredColumns, ...schema.optionalColumns].filter((c) => duplicated.has(c));
  if (ambiguous.length > 0) {
    return {
      rejection: {
        code: "duplicate_column",
        message: `column${ambiguous.length > 1 ? "s" : ""} ${ambiguous.map((c) => `'${c}'`).join(", ")} appear${ambiguous.length > 1 ? "" : "s"} more than once in the header`,
        columns: ambiguous,
      },
    };
  }
  const columns = new Map<string, number>();
  for (const c of [...schema.requiredColumns, ...schema.optionalColumns]) {
    const index = seen.get(c);
    if (index !== undefined) columns.set(c, index);
  }
  return { columns };
}

/**
 * Counts a file's rows, keeps its first issues and makes its {@link FileReport}: shared by the
 * general reader and the fast readers, so every reader reports alike.
 */
export class RowTally {
  rowsRead = 0;
  rowsKept = 0;
  duplicateRows = 0;
  badRows = 0;
  readonly badRowsByCode: Record<string, number> = {};
  readonly issues: RowIssue[] = [];
  readonly #file: string;
  readonly #kind: FileKind;
  readonly #maxIssues: number;

  constructor(file: string, kind: FileKind, maxIssues = 100) {
    this.#file = file;
    this.#kind = kind;
    this.#maxIssues = maxIssues;
  }

  /** Counts a bad row under `code`, keeping it as an issue while there are fewer than `maxIssues`. */
  drop(code: string, row: number, line: number, message: string, column?: string): void {
    this.badRows++;
    this.badRowsByCode[code] = (this.badRowsByCode[code] ?? 0) + 1;
    if (this.issues.length < this.#maxIssues) {
      this.issues.push({
        code,
        row,
        line,
        ...(column === undefined ? {} : { column }),
        message: `row ${row} (line ${line}): ${message}`,
      });
    }
  }

  /** The report, accepted unless a rejection is given. */
  report(rejection?: FileRejection): FileReport {
    return {
      file: this.#file,
      kind: this.#kind,
      accepted: rejection === undefined,
      ...(rejection === undefined ? {} : { rejection }),
      rowsRead: this.rowsRead,
      rowsKept: this.rowsKept,
      duplicateRows: this.duplicateRows,
      badRows: this.badRows,
      badRowsByCode: this.badRowsByCode,
      issues: this.issues,
    };
  }

  /** The report of a file read to the end: rejected when its share of bad rows is over `maxShare`. */
  finish(maxShare: number): FileReport {
    const share = this.badRows / this.rowsRead;
    if (share <= maxShare) return this.report();
    return this.report({
      code: "too_many_bad_rows",
      message: `${this.#file}: ${this.badRows} of ${this.rowsRead} rows are bad (${formatShare(share)}, more than the ${formatShare(maxShare)} allowed)`,
    });
  }
}

/** `0.1234` -> `12.3%`, as used in rejection messages. */
export function formatShare(share: number): string {
  return `${(share * 100).toFixed(share < 0.01 ? 2 : 1).replace(/\.0+$/, "")}%`;
}
