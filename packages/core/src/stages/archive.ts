import { archiveKey } from "../layout/index.js";
import type { PipelineContext } from "./context.js";
import { recordStage } from "./metrics.js";
import { moveOut } from "./move.js";
import { withRecord } from "./record.js";
import { type StageResult, stageResult } from "./result.js";
import { StageOrderError } from "./transform.js";

/**
 * Stage 4: moves a loaded streams file to `<archive>YYYY/MM/DD/<timestamp>_<tag>_<name>` (date
 * and time of processing, UTC; the tag names the delivery): crash-safe and safe against rival
 * runs (see {@link moveOut}). `FAILED` when the file's bytes were gone before they could be
 * moved (deleted or replaced under its key); the record says so and is finished.
 */
export async function archiveStage(ctx: PipelineContext, key: string): Promise<StageResult> {
  const started = ctx.clock.now().getTime();
  const result = await withRecord(ctx, key, async (found) => {
    if (found === undefined) throw new StageOrderError(`archive of '${key}': no such file or record`, key);
    if (found.validationStatus === "FAILED") return stageResult("archive", found, "SKIPPED");
    // Closed: its bytes were gone before they could be kept (the message says how).
    if (found.archivalStatus === "FAILED") return stageResult("archive", found, "FAILED");
    if (found.kpiIngestionStatus !== "SUCCESS")
      throw new StageOrderError(`archive of '${key}' before its KPIs were loaded`, key);
    const record = await moveOut(ctx, found, archiveKey(ctx.layout, key, ctx.clock.now(), found.etag));
    // FAILED: the file's bytes were gone before they could be moved (the message says how).
    return stageResult("archive", record, record.archivalStatus === "SUCCESS" ? "SUCCESS" : "FAILED");
  });
  return recordStage(ctx, "archive", started, result);
}
