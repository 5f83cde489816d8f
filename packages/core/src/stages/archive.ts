import { archiveKey } from "../layout/index.js";
import type { PipelineContext } from "./context.js";
import { recordStage } from "./metrics.js";
import { moveOut } from "./move.js";
import { withRecord } from "./record.js";
import { type StageResult, stageResult } from "./result.js";
import { StageOrderError } from "./transform.js";

/**
 * Stage 4: moves a loaded streams file to `<archive>YYYY/MM/DD/<timestamp>_<name>` (date and
 * time of processing, UTC): copy, verify, delete, crash-safe (see {@link moveOut}).
 */
export async function archiveStage(ctx: PipelineContext, key: string): Promise<StageResult> {
  const started = ctx.clock.now().getTime();
  const result = await withRecord(ctx, key, async (found) => {
    if (found === undefined) throw new StageOrderError(`archive of '${key}': no such file or record`, key);
    if (found.validationStatus === "FAILED") return stageResult("archive", found, "SKIPPED");
    if (found.kpiIngestionStatus !== "SUCCESS")
      throw new StageOrderError(`archive of '${key}' before its KPIs were loaded`, key);
    const record = await moveOut(ctx, found, archiveKey(ctx.layout, key, ctx.clock.now()));
    return stageResult("archive", record, "SUCCESS");
  });
  return recordStage(ctx, "archive", started, result);
}
