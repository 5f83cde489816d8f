import { MusicpipeError } from "../errors/index.js";
import type { FileRecord } from "../ports/tables.js";
import type { PipelineContext } from "./context.js";
import { updateRecord } from "./record.js";

/** A file could not be moved: its object vanished before a copy existed, or the copy is wrong. */
export class MoveError extends MusicpipeError {
  constructor(message: string, file: string) {
    super("move_failed", message, { file });
  }
}

/**
 * Moves a delivery out of its input key to `destination`, crash-safe at every step: the
 * destination is recorded first (`archivalStatus: IN_PROGRESS`), then moved in one step where
 * the store can (`ObjectStore.move`, a rename), else copied (only from the recorded etag),
 * verified by size, and the input deleted; only then is the move recorded as done. A run that
 * stopped anywhere in between is finished by the next one, which finds the recorded
 * destination and carries on.
 */
export async function moveOut(
  ctx: PipelineContext,
  found: FileRecord,
  destination: string,
): Promise<FileRecord> {
  let record = found;
  if (record.archivalStatus === "SUCCESS") return record;
  if (record.archivedKey === undefined || record.archivalStatus !== "IN_PROGRESS") {
    record = await updateRecord(ctx, record, {
      archivalStatus: "IN_PROGRESS",
      archivedKey: record.archivedKey ?? destination,
      archivalTimestamp: ctx.clock.now().toISOString(),
    });
  }
  const source = record.fileKey;
  const target = record.archivedKey!;
  const [from, to] = await Promise.all([ctx.objects.head(source), ctx.objects.head(target)]);
  if (from !== undefined && ctx.objects.move !== undefined) {
    // One step where the store can (a rename): the source is gone exactly when the target is there.
    await ctx.objects.move(source, target, { ifMatch: record.etag });
  } else if (from !== undefined) {
    if (to === undefined || to.size !== from.size) {
      await ctx.objects.copy(source, target, { ifMatch: record.etag });
      const copied = await ctx.objects.head(target);
      if (copied === undefined || copied.size !== from.size) {
        throw new MoveError(
          `copy of '${source}' to '${target}' has ${copied?.size ?? "no"} bytes, expected ${from.size}`,
          source,
        );
      }
    }
    await ctx.objects.delete(source);
  } else if (to === undefined) {
    throw new MoveError(`'${source}' disappeared before it was copied to '${target}'`, source);
  }
  ctx.logger.info("file moved", { fileKey: source, runId: ctx.runId, to: target });
  return updateRecord(ctx, record, {
    archivalStatus: "SUCCESS",
    archivalTimestamp: ctx.clock.now().toISOString(),
    archivalMessage: `moved to ${target}`,
  });
}
