import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import {
  type FileKind,
  type FileRecord,
  type FileRejection,
  type FileRejectionCode,
  type FileStatusStore,
  isFinished,
  type RowCounts,
  type StageStatus,
} from "@musicpipe/core";
import { UNFINISHED_INDEX } from "./ensure.js";
import {
  checkExpectedVersion,
  type Item,
  ItemReader,
  isVersioned,
  putVersioned,
  queryAll,
  scanAll,
  sortByUtf8,
  withoutUndefined,
} from "./items.js";
import type { RetryOptions } from "./retry.js";

const FILE_KINDS: ReadonlySet<string> = new Set<FileKind>(["streams", "songs", "users"]);
const STAGE_STATUSES: ReadonlySet<string> = new Set<StageStatus>([
  "PENDING",
  "IN_PROGRESS",
  "SUCCESS",
  "FAILED",
  "SKIPPED",
]);

function rejectionItem(rejection: FileRejection): Item {
  return {
    code: rejection.code,
    message: rejection.message,
    line: rejection.line,
    columns: rejection.columns === undefined ? undefined : [...rejection.columns],
  };
}

function rowCountsItem(counts: RowCounts): Item {
  return {
    read: counts.read,
    kept: counts.kept,
    duplicates: counts.duplicates,
    bad: counts.bad,
    bad_by_code: { ...counts.badByCode },
  };
}

/** The FileValidationMetadata item of a record (snake_case, as the original Python pipeline named them). */
export function fileRecordItem(record: FileRecord): Item {
  return withoutUndefined({
    file_key: record.fileKey,
    file_type: record.fileType,
    etag: record.etag,
    size: record.size,
    deliveries: record.deliveries,
    attempts: record.attempts,
    validation_status: record.validationStatus,
    validation_timestamp: record.validationTimestamp,
    validation_message: record.validationMessage,
    rejection: record.rejection === undefined ? undefined : rejectionItem(record.rejection),
    content_sha256: record.contentSha256,
    row_counts: record.rowCounts === undefined ? undefined : rowCountsItem(record.rowCounts),
    listen_dates: record.listenDates === undefined ? undefined : [...record.listenDates],
    kpi_ingestion_status: record.kpiIngestionStatus,
    kpi_ingestion_timestamp: record.kpiIngestionTimestamp,
    kpi_ingestion_message: record.kpiIngestionMessage,
    archival_status: record.archivalStatus,
    archival_timestamp: record.archivalTimestamp,
    archival_message: record.archivalMessage,
    archived_key: record.archivedKey,
    archived_etag: record.archivedEtag,
    // Only unfinished records are in the sparse index.
    [UNFINISHED_INDEX.attribute]: isFinished(record) ? undefined : "1",
    version: record.version,
  });
}

/** The record of a FileValidationMetadata item; fails with `TableItemFormatError` when malformed. */
export function fileRecordOf(table: string, item: Item): FileRecord {
  const read = new ItemReader(table, { file_key: item.file_key });
  const status = (name: string): StageStatus => {
    const value = read.string(item[name], name);
    if (!STAGE_STATUSES.has(value)) read.fail(`has an unknown stage status '${value}' in '${name}'`);
    return value as StageStatus;
  };
  const fileType = read.string(item.file_type, "file_type");
  if (!FILE_KINDS.has(fileType)) read.fail(`has an unknown file_type '${fileType}'`);

  let rejection: FileRejection | undefined;
  if (item.rejection !== undefined) {
    const r = read.map(item.rejection, "rejection");
    const line = read.optionalInteger(r.line, "rejection.line");
    rejection = {
      code: read.string(r.code, "rejection.code") as FileRejectionCode,
      message: read.string(r.message, "rejection.message"),
      ...(line === undefined ? {} : { line }),
      ...(r.columns === undefined ? {} : { columns: read.strings(r.columns, "rejection.columns") }),
    };
  }

  let rowCounts: RowCounts | undefined;
  if (item.row_counts !== undefined) {
    const c = read.map(item.row_counts, "row_counts");
    const byCode = read.map(c.bad_by_code ?? {}, "row_counts.bad_by_code");
    rowCounts = {
      read: read.integer(c.read, "row_counts.read"),
      kept: read.integer(c.kept, "row_counts.kept"),
      duplicates: read.integer(c.duplicates, "row_counts.duplicates"),
      bad: read.integer(c.bad, "row_counts.bad"),
      badByCode: Object.fromEntries(
        Object.entries(byCode).map(([code, n]) => [code, read.integer(n, `row_counts.bad_by_code.${code}`)]),
      ),
    };
  }

  const optional = <K extends keyof FileRecord>(field: K, value: FileRecord[K] | undefined) =>
    value === undefined ? {} : { [field]: value };

  return {
    fileKey: read.string(item.file_key, "file_key"),
    fileType: fileType as FileKind,
    etag: read.string(item.etag, "etag"),
    size: read.integer(item.size, "size"),
    deliveries: read.integer(item.deliveries, "deliveries"),
    attempts: read.integer(item.attempts, "attempts"),
    validationStatus: status("validation_status"),
    ...optional(
      "validationTimestamp",
      read.optionalString(item.validation_timestamp, "validation_timestamp"),
    ),
    ...optional("validationMessage", read.optionalString(item.validation_message, "validation_message")),
    ...optional("rejection", rejection),
    ...optional("contentSha256", read.optionalString(item.content_sha256, "content_sha256")),
    ...optional("rowCounts", rowCounts),
    ...optional(
      "listenDates",
      item.listen_dates === undefined ? undefined : read.strings(item.listen_dates, "listen_dates"),
    ),
    kpiIngestionStatus: status("kpi_ingestion_status"),
    ...optional(
      "kpiIngestionTimestamp",
      read.optionalString(item.kpi_ingestion_timestamp, "kpi_ingestion_timestamp"),
    ),
    ...optional(
      "kpiIngestionMessage",
      read.optionalString(item.kpi_ingestion_message, "kpi_ingestion_message"),
    ),
    archivalStatus: status("archival_status"),
    ...optional("archivalTimestamp", read.optionalString(item.archival_timestamp, "archival_timestamp")),
    ...optional("archivalMessage", read.optionalString(item.archival_message, "archival_message")),
    ...optional("archivedKey", read.optionalString(item.archived_key, "archived_key")),
    ...optional("archivedEtag", read.optionalString(item.archived_etag, "archived_etag")),
    version: read.integer(item.version, "version"),
  };
}

/**
 * {@link FileStatusStore} on the FileValidationMetadata table (key `file_key`).
 *
 * - `put` is one PutItem conditional on the stored `version` (`attribute_not_exists(version)`
 *   for `expectedVersion` 0, so an item without a version, as the original Python pipeline
 *   wrote them, is replaced by the first musicpipe write); a failed condition is
 *   `ConditionFailedError`.
 * - `get` is a strongly consistent GetItem. Items without a numeric `version` are not musicpipe
 *   records: `get` returns `undefined` for them and `list` skips them.
 * - `list` scans the whole table (every 1 MB page) and sorts by key: O(table) in time and
 *   memory, meant for status reports, not for hot paths.
 * - `listUnfinished` queries the table's sparse index `unfinished` (only unfinished records
 *   carry its attribute), so it reads what is unfinished, not the whole table. The index is
 *   eventually consistent: a record made unfinished a moment ago may be missing from it (its
 *   delivery is still in the raw prefix, where a run finds it anyway). On a table made without
 *   the index (before it existed; `ensureTables` creates it with new tables), it scans.
 */
export function createDynamoDbFileStatusStore(
  doc: DynamoDBDocumentClient,
  table: string,
  retry: () => RetryOptions,
): FileStatusStore {
  return {
    async get(fileKey) {
      const out = await doc.send(
        new GetCommand({ TableName: table, Key: { file_key: fileKey }, ConsistentRead: true }),
      );
      const item = out.Item as Item | undefined;
      return item === undefined || !isVersioned(item) ? undefined : fileRecordOf(table, item);
    },

    async put(record, expectedVersion) {
      const what = `file status write of '${record.fileKey}'`;
      checkExpectedVersion(what, expectedVersion);
      const item = fileRecordItem({ ...record, version: expectedVersion + 1 });
      await putVersioned(doc, table, item, expectedVersion, retry(), { what, file: record.fileKey });
      // What a get would return: the same mapping both ways.
      return fileRecordOf(table, item);
    },

    async *list() {
      const items = await scanAll(doc, { TableName: table, ConsistentRead: true });
      const records = items.filter(isVersioned).map((item) => fileRecordOf(table, item));
      yield* sortByUtf8(records, (record) => record.fileKey);
    },

    async *listUnfinished() {
      let items: Item[];
      try {
        items = await queryAll(doc, {
          TableName: table,
          IndexName: UNFINISHED_INDEX.name,
          KeyConditionExpression: "#unfinished = :yes",
          ExpressionAttributeNames: { "#unfinished": UNFINISHED_INDEX.attribute },
          ExpressionAttributeValues: { ":yes": "1" },
        });
      } catch (error) {
        // A table without the index: DynamoDB refuses the query as invalid.
        if ((error as { name?: string } | undefined)?.name !== "ValidationException") throw error;
        items = await scanAll(doc, { TableName: table, ConsistentRead: true });
      }
      const records = items.filter(isVersioned).map((item) => fileRecordOf(table, item));
      yield* sortByUtf8(
        records.filter((record) => !isFinished(record)),
        (record) => record.fileKey,
      );
    },
  };
}
