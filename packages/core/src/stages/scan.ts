import { CompactKpis } from "../fast/compact.js";
import { readStreamsCompact } from "../kpi/compute.js";
import type { FileReport } from "../validate/index.js";
import { hashedReads, type PipelineContext } from "./context.js";

/** What reading a streams object gave: its report, partial and content SHA-256. */
export interface ScannedObject {
  readonly report: FileReport;
  /** Over the compiled catalog's index; empty when the file was rejected. */
  readonly compact: CompactKpis;
  /** The content SHA-256 (read to the end: always for an accepted file). */
  readonly sha256: string | undefined;
}

/**
 * Reads a streams object once: checks every row against the catalog, computes its partial and
 * hashes its bytes, on the context's threads when it has them (the bytes are read here and
 * handed over), otherwise in this thread.
 */
export async function scanObject(ctx: PipelineContext, key: string): Promise<ScannedObject> {
  const { catalog, compiled } = await ctx.catalog();
  const fast = ctx.validation.fastPath !== false && ctx.validation.schemas?.streams === undefined;
  if (fast && ctx.threads !== undefined) {
    const reply = await ctx.threads.streamsFile(key, () => ctx.objects.get(key), { hash: true });
    if (reply !== undefined && (reply.sha256 !== undefined || !reply.report.accepted)) {
      const compact = new CompactKpis(compiled.index);
      if (reply.partial !== undefined) compact.mergeTransfer(reply.partial);
      return { report: reply.report, compact, sha256: reply.sha256 };
    }
  }
  const reads = hashedReads(ctx.objects, key);
  const { report, compact } = await readStreamsCompact(reads.open, key, catalog, ctx.validation);
  return { report, compact, sha256: report.accepted ? reads.digest() : undefined };
}
