import { CompactKpis } from "../fast/compact.js";
import { readStreamsCompact } from "../kpi/compute.js";
import { encodePartials, userShards } from "../state/partial.js";
import type { FileReport } from "../validate/index.js";
import { hashedReads, type PipelineContext } from "./context.js";

/** What reading a streams object gave: its report, partials and content SHA-256. */
export interface ScannedObject {
  readonly report: FileReport;
  /** The partial blobs per listen date (none for a rejected file), against `catalog`. */
  readonly blobs: ReadonlyMap<string, Uint8Array>;
  /** The digest of the compiled catalog the blobs refer to. */
  readonly catalog: string;
  /** The content SHA-256 (read to the end: always for an accepted file). */
  readonly sha256: string | undefined;
}

/** Files smaller than this are read in the calling thread: handing them over would cost more. */
export const THREAD_MIN_BYTES = 8 * 1024 * 1024;

/** The catalog indexes given to threads (each once: it copies the lookup tables to shared memory). */
const shared = new WeakMap<object, WeakSet<object>>();

/**
 * Reads a streams object once: checks every row against the catalog, computes its partials and
 * hashes its bytes, on the context's threads when it has them and the object (of `size` bytes,
 * when known) is not small (the bytes are read here and handed over; the threads encode the
 * partials), otherwise in this thread. A thread gets the file before the catalog is loaded and
 * reads ahead meanwhile.
 */
export async function scanObject(ctx: PipelineContext, key: string, size?: number): Promise<ScannedObject> {
  const fast = ctx.validation.fastPath !== false && ctx.validation.schemas?.streams === undefined;
  const threads = ctx.threads;
  if (fast && threads !== undefined && (size === undefined || size >= THREAD_MIN_BYTES)) {
    const replying = threads.streamsFile(key, () => ctx.objects.get(key), { hash: true, encode: true });
    // Awaited below; marked handled so a failure while the catalog loads is not unobserved.
    replying.catch(() => {});
    const { compiled } = await ctx.catalog();
    let given = shared.get(threads);
    if (given === undefined) {
      given = new WeakSet();
      shared.set(threads, given);
    }
    if (!given.has(compiled.index)) {
      given.add(compiled.index);
      threads.shareIndex(compiled.index, {
        digest: compiled.digest,
        shards: ctx.listenerShards,
        userShard: sharedCopy(userShards(compiled.index, ctx.listenerShards)),
      });
    }
    const reply = await replying;
    if (reply !== undefined && (reply.sha256 !== undefined || !reply.report.accepted)) {
      let blobs = new Map(reply.blobs ?? []);
      if (reply.blobs === undefined && reply.partial !== undefined) {
        const compact = new CompactKpis(compiled.index).mergeTransfer(reply.partial);
        blobs = encodePartials(compact, compiled, ctx.listenerShards);
      }
      return { report: reply.report, blobs, catalog: compiled.digest, sha256: reply.sha256 };
    }
  }
  const { catalog, compiled } = await ctx.catalog();
  const reads = hashedReads(ctx.objects, key);
  const { report, compact } = await readStreamsCompact(reads.open, key, catalog, ctx.validation);
  return {
    report,
    blobs: report.accepted ? encodePartials(compact, compiled, ctx.listenerShards) : new Map(),
    catalog: compiled.digest,
    sha256: report.accepted ? reads.digest() : undefined,
  };
}

/** A copy of `values` in shared memory (to give to worker threads). */
function sharedCopy(values: Uint16Array): Uint16Array {
  const out = new Uint16Array(new SharedArrayBuffer(Math.max(2, values.byteLength)));
  out.set(values);
  return out;
}
