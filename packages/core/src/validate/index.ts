import type { z } from "zod";
import { type ByteSource, readCsv } from "../csv/index.js";
import { CsvFormatError } from "../errors/index.js";
import type { TableSchema } from "../schema/index.js";
import {
  checkHeader,
  DEFAULT_MAX_BAD_ROW_SHARE,
  type FileRejection,
  type FileReport,
  RowTally,
  type RowVerdict,
  type ScanOptions,
} from "./report.js";

export {
  checkHeader,
  DEFAULT_MAX_BAD_ROW_SHARE,
  type FileRejection,
  type FileRejectionCode,
  type FileReport,
  formatShare,
  type RowIssue,
  type RowIssueCode,
  RowTally,
  type RowVerdict,
  type ScanOptions,
  type ScanProgress,
  UNKNOWN_USER,
  unknownTrack,
} from "./report.js";

function isBlankRecord(record: readonly string[]): boolean {
  for (const field of record) if (field.trim() !== "") return false;
  return true;
}

function issueFromZod(error: z.ZodError): { code: string; column?: string; message: string } {
  const issue = error.issues[0]!;
  const column = issue.path.length > 0 ? String(issue.path[0]) : undefined;
  const params = (issue as { params?: { code?: unknown } }).params;
  const code = issue.code === "custom" && typeof params?.code === "string" ? params.code : "invalid_value";
  return column === undefined
    ? { code, message: issue.message }
    : { code, column, message: `${column} ${issue.message}` };
}

/**
 * Streams a CSV file, checks its header and every row against `schema`, and passes each valid
 * row to `onRow`, which may still drop it (an unknown id) or call it a duplicate. Never throws
 * for bad input: format errors, header problems and too many bad rows become the report's
 * `rejection`. Errors of the byte source itself (I/O) are thrown.
 *
 * When the report says the file was rejected, rows already passed to `onRow` must be
 * discarded by the caller; accumulate per file and merge only accepted files.
 */
export async function scanTable<S extends z.ZodObject>(
  source: ByteSource,
  name: string,
  schema: TableSchema<S>,
  onRow: (row: z.output<S>, rowNumber: number) => RowVerdict,
  options: ScanOptions = {},
): Promise<FileReport> {
  const maxIssues = options.maxIssues ?? 100;
  const maxShare = options.maxBadRowShare ?? DEFAULT_MAX_BAD_ROW_SHARE;
  const tally = new RowTally(name, schema.kind, maxIssues);
  const report = (rejection?: FileRejection) => tally.report(rejection);
  const drop = tally.drop.bind(tally);
  let columns: ReadonlyMap<string, number> | undefined;
  let width = 0;
  let sawHeader = false;
  try {
    for await (const { records, lines } of readCsv(source, { ...options, name })) {
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        const line = lines[i]!;
        if (!sawHeader) {
          if (isBlankRecord(record)) continue;
          sawHeader = true;
          const header = record.map((h) => h.trim());
          const checked = checkHeader(header, schema);
          if ("rejection" in checked)
            return report({ ...checked.rejection, message: `${name}: ${checked.rejection.message}`, line });
          columns = checked.columns;
          width = header.length;
          continue;
        }
        if (isBlankRecord(record)) continue;
        const rowNumber = ++tally.rowsRead;
        if (record.length !== width) {
          drop("column_count", rowNumber, line, `has ${record.length} fields, the header has ${width}`);
          continue;
        }
        const input: Record<string, string> = {};
        for (const [column, index] of columns!) input[column] = record[index]!;
        const parsed = schema.row.safeParse(input);
        if (!parsed.success) {
          const issue = issueFromZod(parsed.error);
          drop(issue.code, rowNumber, line, issue.message, issue.column);
          continue;
        }
        const verdict = onRow(parsed.data, rowNumber);
        if (verdict === undefined) tally.rowsKept++;
        else if (verdict === "duplicate") tally.duplicateRows++;
        else drop(verdict.code, rowNumber, line, verdict.message, verdict.column);
      }
      options.onProgress?.({ file: name, rowsRead: tally.rowsRead });
    }
  } catch (err) {
    if (err instanceof CsvFormatError) {
      return report({
        code: err.code,
        message: err.message,
        ...(err.line === undefined ? {} : { line: err.line }),
      });
    }
    throw err;
  }
  if (!sawHeader) return report({ code: "empty_file", message: `${name}: the file is empty` });
  if (tally.rowsRead === 0) {
    return report({ code: "header_only", message: `${name}: the file has a header but no data rows` });
  }
  return tally.finish(maxShare);
}
