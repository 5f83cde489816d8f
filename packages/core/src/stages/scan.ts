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

/** Files smaller than this are read in the calling thread: handing them over would cost more. */
const THREAD_MIN_BYTES = 8 * 1024 * 1024;

/** The catalog indexes given to threads (each once: it copies the lookup tables to shared memory). */
const shared = new WeakMap<object, WeakSet<object>>();

/**
 * Reads a streams object once: checks every row against the catalog, computes its partial and
 * hashes its bytes, on the context's threads when it has them and the object (of `size` bytes,
 * when known) is not small (the bytes are read here and handed over), otherwise in this thread.
 */
export async function scanObject(ctx: PipelineContext, key: string, size?: number): Promise<ScannedObject> {
  const { catalog, compiled } = await ctx.catalog();
  const fast = ctx.validation.fastPath !== false && ctx.validation.schemas?.streams === undefined;
  if (fast && ctx.threads !== undefined && (size === undefined || size >= THREAD_MIN_BYTES)) {
    let given = shared.get(ctx.threads);
    if (given === undefined) {
      given = new WeakSet();
      shared.set(ctx.threads, given);
    }
    if (!given.has(compiled.index)) {
      given.add(compiled.index);
      ctx.threads.shareIndex(compiled.index);
    }
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
