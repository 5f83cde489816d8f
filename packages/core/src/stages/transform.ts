import pLimit from "p-limit";
import { MusicpipeError } from "../errors/index.js";
import { archiveKey } from "../layout/index.js";
import type { FileRecord } from "../ports/tables.js";
import type { PipelineContext } from "./context.js";
import { recordStage } from "./metrics.js";
import { pinCopy } from "./move.js";
import { updateRecord, withRecord } from "./record.js";
import { type StageResult, stageResult } from "./result.js";
import { scanObject } from "./scan.js";

/** A stage was asked to run before the stage it depends on finished. */
export class StageOrderError extends MusicpipeError {
  constructor(message: string, file: string) {
    super("stage_out_of_order", message, { file });
  }
}

/** Partials a store without `putMany` is given at once (each a different listen date). */
const PARTIAL_PUTS = 8;

/**
 * Stage 2: computes the KPI partial of a validated streams file and stores it per listen date
 * (binary, against the compiled catalog), keyed by the file's content SHA-256: the same bytes
 * under any key, or processed twice, store the same partial, which a date's state includes
 * once. First copies the file to its archive key (see `pinCopy`): the bytes that are
 * counted are kept. Marks KPI ingestion `IN_PROGRESS` (partials stored, dates not loaded).
 * `SKIPPED` when the file was replaced or removed after validation (nothing of it counted).
 */
export async function transformStage(ctx: PipelineContext, key: string): Promise<StageResult> {
  const started = ctx.clock.now().getTime();
  const result = await withRecord(ctx, key, async (found) => {
    if (found === undefined || found.validationStatus === "PENDING") {
      throw new StageOrderError(`transform of '${key}' before it was validated`, key);
    }
    if (found.validationStatus === "FAILED") return stageResult("transform", found, "SKIPPED");
    if (found.kpiIngestionStatus !== "PENDING") return stageResult("transform", found, "SUCCESS");
    if (found.archivalStatus === "FAILED") return stageResult("transform", found, "SKIPPED");
    // The bytes are copied to the archive before anything of them can be counted.
    const pinned = await pinCopy(ctx, found, archiveKey(ctx.layout, key, ctx.clock.now(), found.etag));
    if (pinned.archivalStatus === "FAILED") return stageResult("transform", pinned, "SKIPPED");
    const blobs = await partialsOf(ctx, pinned);
    const { stored: catalogStored } = await ctx.catalog();
    // The dates of the partials (normally those found at validation; a catalog changed since
    // can drop some).
    const listenDates = [...blobs.keys()].sort();
    const stored = listenDates.map((listenDate) => ({
      listenDate,
      fingerprint: found.contentSha256!,
      fileKey: key,
      blob: blobs.get(listenDate)!,
    }));
    // The partials refer to the compiled catalog: it must be stored first.
    await catalogStored;
    if (ctx.partials.putMany !== undefined) await ctx.partials.putMany(stored);
    else {
      // Different dates are independent writes: several at once overlap their latency.
      const limit = pLimit(PARTIAL_PUTS);
      await Promise.all(stored.map((one) => limit(() => ctx.partials.put(one))));
    }
    ctx.computed.delete(`${key}@${found.etag}`);
    const record = await updateRecord(ctx, pinned, {
      kpiIngestionStatus: "IN_PROGRESS",
      kpiIngestionTimestamp: ctx.clock.now().toISOString(),
      kpiIngestionMessage: `partials stored for ${listenDates.length} listen dates`,
      listenDates,
    });
    return stageResult("transform", record, "SUCCESS");
  });
  return recordStage(ctx, "transform", started, result);
}

/** The partials computed at validation in this process, or computed again from the object. */
async function partialsOf(
  ctx: PipelineContext,
  record: FileRecord,
): Promise<ReadonlyMap<string, Uint8Array>> {
  const cached = ctx.computed.get(`${record.fileKey}@${record.etag}`);
  const { compiled } = await ctx.catalog();
  if (cached !== undefined && cached.catalog === compiled.digest && cached.shards === ctx.listenerShards)
    return cached.blobs;
  // Read from the archive copy, which holds the validated bytes whatever became of the input.
  const { report, blobs, sha256 } = await scanObject(ctx, record.archivedKey ?? record.fileKey, record.size);
  if (!report.accepted || sha256 !== record.contentSha256) {
    throw new MusicpipeError(
      "content_changed",
      `'${record.fileKey}' changed since it was validated (content hash or validity differs); it will be treated as a new delivery`,
      { file: record.fileKey },
    );
  }
  return blobs;
}
