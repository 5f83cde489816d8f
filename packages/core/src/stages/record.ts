import { ConditionFailedError } from "../errors/index.js";
import type { ObjectInfo } from "../ports/object-store.js";
import type { FileRecord } from "../ports/tables.js";
import type { FileKind } from "../schema/index.js";
import type { PipelineContext } from "./context.js";

/** Changes to a record; `version` is managed by the store. */
export type RecordChanges = Partial<Omit<FileRecord, "fileKey" | "version">>;

/** Writes `changes` over `record` on the condition that nobody wrote it since it was read. */
export function updateRecord(
  ctx: PipelineContext,
  record: FileRecord,
  changes: RecordChanges,
): Promise<FileRecord> {
  const { version, ...rest } = record;
  return ctx.files.put({ ...rest, ...changes }, version);
}

/** A fresh record for a new delivery of `info.key`. */
function newDelivery(
  info: ObjectInfo,
  fileType: FileKind,
  previous: FileRecord | undefined,
): Omit<FileRecord, "version"> {
  return {
    fileKey: info.key,
    fileType,
    etag: info.etag,
    size: info.size,
    deliveries: (previous?.deliveries ?? 0) + 1,
    attempts: 0,
    validationStatus: "PENDING",
    kpiIngestionStatus: "PENDING",
    archivalStatus: "PENDING",
  };
}

/** `true` once the file has left its input key (archived, or moved to the error prefix). */
export function isMovedOut(record: FileRecord): boolean {
  return record.archivalStatus === "SUCCESS";
}

/**
 * `true` when nothing is left to do for the record's delivery: moved out, skipped, or found
 * gone before it could be moved (`archivalStatus: FAILED`, see {@link moveOut}).
 */
export function isFinished(record: FileRecord): boolean {
  return isMovedOut(record) || record.archivalStatus === "SKIPPED" || record.archivalStatus === "FAILED";
}

/**
 * The record of the delivery currently at `key`, created or started over when the object is a
 * new delivery: there is no record yet, the earlier delivery already left the key, or the
 * object was replaced (another etag) before its delivery was moved out.
 *
 * Returns `undefined` when there is neither an object nor a record.
 */
export async function currentRecord(
  ctx: PipelineContext,
  key: string,
  fileType: FileKind = "streams",
): Promise<FileRecord | undefined> {
  // The record first, then the object: an object seen after a record that says the delivery
  // left the key is a new delivery, never the old one seen before a rival run moved it.
  const record = await ctx.files.get(key);
  const info = await ctx.objects.head(key);
  if (info === undefined) return record;
  const isNew =
    record === undefined ||
    isFinished(record) ||
    (record.etag !== info.etag && record.archivedKey === undefined);
  if (!isNew) return record;
  return ctx.files.put(newDelivery(info, fileType, record), record?.version ?? 0);
}

/**
 * Runs `step` with the current record, re-reading and running it again when a concurrent
 * writer changed the record first (up to `tries` times).
 */
export async function withRecord<T>(
  ctx: PipelineContext,
  key: string,
  step: (record: FileRecord | undefined) => Promise<T>,
  tries = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step(await currentRecord(ctx, key));
    } catch (err) {
      if (!(err instanceof ConditionFailedError) || attempt >= tries) throw err;
      ctx.logger.debug("record changed concurrently; reading it again", { fileKey: key, attempt });
    }
  }
}
