import { ObjectNotFoundError } from "../errors/index.js";
import { errorKey } from "../layout/index.js";
import type { FileRecord } from "../ports/tables.js";
import type { PipelineContext } from "./context.js";
import { recordStage } from "./metrics.js";
import { moveOut } from "./move.js";
import { updateRecord, withRecord } from "./record.js";
import { type StageResult, stageResult } from "./result.js";
import { scanObject } from "./scan.js";

/**
 * Stage 1: validates the streams file at `key`. Streams it once, checking the header and every
 * row (against the song and user catalogs), and hashes its bytes.
 *
 * - valid: the record gets `validationStatus: SUCCESS`, the row counts, the listen dates and
 *   the content SHA-256;
 * - invalid: the record gets `FAILED` with the rejection, and the file is moved to
 *   `<error>/<timestamp>_<tag>_<name>` (copy, verify, delete).
 *
 * Running it again after it finished changes nothing. Bad input never throws; a failing store
 * does (so an orchestrator retries).
 */
export async function validateStage(ctx: PipelineContext, key: string): Promise<StageResult> {
  const started = ctx.clock.now().getTime();
  const result = await withRecord(ctx, key, async (found) => {
    if (found === undefined) throw new ObjectNotFoundError(key);
    let record = found;
    if (record.validationStatus === "PENDING") record = await validateDelivery(ctx, record);
    if (record.validationStatus === "FAILED" && record.archivalStatus !== "SUCCESS") {
      record = await moveOut(ctx, record, errorKey(ctx.layout, key, ctx.clock.now(), record.etag));
      await notifyRejection(ctx, record);
    }
    return stageResult("validate", record, record.validationStatus === "SUCCESS" ? "SUCCESS" : "FAILED");
  });
  return recordStage(ctx, "validate", started, result);
}

async function validateDelivery(ctx: PipelineContext, record: FileRecord): Promise<FileRecord> {
  const key = record.fileKey;
  const attempt = await updateRecord(ctx, record, { attempts: record.attempts + 1 });
  const { report, blobs, catalog, sha256 } = await scanObject(ctx, key, record.size);
  const now = ctx.clock.now().toISOString();
  const rowCounts = {
    read: report.rowsRead,
    kept: report.rowsKept,
    duplicates: report.duplicateRows,
    bad: report.badRows,
    badByCode: report.badRowsByCode,
  };
  ctx.metrics.count("RowsRead", report.rowsRead, { stage: "validate" });
  ctx.metrics.count("RowsKept", report.rowsKept, { stage: "validate" });
  for (const [code, count] of Object.entries(report.badRowsByCode))
    ctx.metrics.count("RowsDropped", count, { reason: code });
  if (!report.accepted) {
    ctx.logger.warn("file rejected", { fileKey: key, runId: ctx.runId, code: report.rejection?.code });
    return updateRecord(ctx, attempt, {
      validationStatus: "FAILED",
      validationTimestamp: now,
      validationMessage: report.rejection?.message,
      rejection: report.rejection,
      rowCounts,
      kpiIngestionStatus: "SKIPPED",
    });
  }
  const listenDates = [...blobs.keys()].sort();
  ctx.computed.set(`${key}@${record.etag}`, { catalog, shards: ctx.listenerShards, blobs });
  ctx.logger.info("file validated", {
    fileKey: key,
    runId: ctx.runId,
    rows: report.rowsRead,
    dates: listenDates.length,
  });
  return updateRecord(ctx, attempt, {
    validationStatus: "SUCCESS",
    validationTimestamp: now,
    validationMessage: `${report.rowsKept} of ${report.rowsRead} rows kept`,
    contentSha256: sha256,
    rowCounts,
    listenDates,
  });
}

async function notifyRejection(ctx: PipelineContext, record: FileRecord): Promise<void> {
  await ctx.notifier?.notify({
    fileKey: record.fileKey,
    stage: "validate",
    code: record.rejection?.code ?? "rejected",
    message: record.validationMessage ?? "file rejected",
    runId: ctx.runId,
  });
}
