import { MusicpipeError } from "../errors/index.js";
import type { KpiAccumulator } from "../kpi/accumulator.js";
import { readStreamsFile } from "../kpi/compute.js";
import type { FileRecord } from "../ports/tables.js";
import { hashedReads, type PipelineContext } from "./context.js";
import { recordStage } from "./metrics.js";
import { updateRecord, withRecord } from "./record.js";
import { type StageResult, stageResult } from "./result.js";

/** A stage was asked to run before the stage it depends on finished. */
export class StageOrderError extends MusicpipeError {
  constructor(message: string, file: string) {
    super("stage_out_of_order", message, { file });
  }
}

/**
 * Stage 2: computes the KPI partial of a validated streams file and stores it per listen date,
 * keyed by the file's content SHA-256: the same bytes under any key, or processed twice, store
 * the same partial once. Marks KPI ingestion `IN_PROGRESS` (partials stored, dates not loaded).
 */
export async function transformStage(ctx: PipelineContext, key: string): Promise<StageResult> {
  const started = ctx.clock.now().getTime();
  const result = await withRecord(ctx, key, async (found) => {
    if (found === undefined || found.validationStatus === "PENDING") {
      throw new StageOrderError(`transform of '${key}' before it was validated`, key);
    }
    if (found.validationStatus === "FAILED") return stageResult("transform", found, "SKIPPED");
    if (found.kpiIngestionStatus !== "PENDING") return stageResult("transform", found, "SUCCESS");
    const partial = await partialOf(ctx, found);
    // Normally the dates found at validation; a catalog changed since can add or drop some,
    // and an emptied date must replace its earlier partial too.
    const listenDates = [...new Set([...(found.listenDates ?? []), ...partial.dates()])].sort();
    const stored = listenDates.map((listenDate) => ({
      listenDate,
      fingerprint: found.contentSha256!,
      fileKey: key,
      state: partial.pick([listenDate]).toState(),
    }));
    if (ctx.partials.putMany !== undefined) await ctx.partials.putMany(stored);
    else for (const one of stored) await ctx.partials.put(one);
    ctx.computed.delete(`${key}@${found.etag}`);
    const record = await updateRecord(ctx, found, {
      kpiIngestionStatus: "IN_PROGRESS",
      kpiIngestionTimestamp: ctx.clock.now().toISOString(),
      kpiIngestionMessage: `partials stored for ${listenDates.length} listen dates`,
      listenDates,
    });
    return stageResult("transform", record, "SUCCESS");
  });
  return recordStage(ctx, "transform", started, result);
}

/** The partial computed at validation in this process, or computed again from the object. */
async function partialOf(ctx: PipelineContext, record: FileRecord): Promise<KpiAccumulator> {
  const cached = ctx.computed.get(`${record.fileKey}@${record.etag}`);
  if (cached !== undefined) return cached;
  const { catalog } = await ctx.catalog();
  const reads = hashedReads(ctx.objects, record.fileKey);
  const { report, partial } = await readStreamsFile(reads.open, record.fileKey, catalog, ctx.validation);
  if (!report.accepted || reads.digest() !== record.contentSha256) {
    throw new MusicpipeError(
      "content_changed",
      `'${record.fileKey}' changed since it was validated (content hash or validity differs); it will be treated as a new delivery`,
      { file: record.fileKey },
    );
  }
  return partial;
}
