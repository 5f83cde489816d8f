import { createHash } from "node:crypto";
import { ConditionFailedError, MusicpipeError, ObjectNotFoundError } from "../errors/index.js";
import type { ObjectInfo, ObjectStore } from "../ports/object-store.js";
import type { FileRecord } from "../ports/tables.js";
import type { PipelineContext } from "./context.js";
import { updateRecord } from "./record.js";

/** A file could not be moved: its target holds other bytes than the file. */
export class MoveError extends MusicpipeError {
  constructor(message: string, file: string) {
    super("move_failed", message, { file });
  }
}

/** The SHA-256 of an object's bytes, read to the end. */
async function digestOf(objects: ObjectStore, key: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of objects.get(key)) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * Whether two objects hold the same bytes: the same etag (S3's and the memory store's are of
 * the content, the local store's name the file itself), else sizes, then their SHA-256.
 */
async function sameBytes(objects: ObjectStore, a: ObjectInfo, b: ObjectInfo): Promise<boolean> {
  if (a.etag === b.etag) return true;
  if (a.size !== b.size) return false;
  const [x, y] = await Promise.all([digestOf(objects, a.key), digestOf(objects, b.key)]);
  return x === y;
}

/**
 * Moves a delivery out of its input key to `destination`, crash-safe at every step and safe
 * when several runs move the same file at once:
 *
 * 1. the destination is recorded first (`archivalStatus: IN_PROGRESS`); a run that finds one
 *    recorded uses it, so every run moves the delivery to the same key;
 * 2. the file is moved in one step where the store can (`ObjectStore.move`), else copied
 *    (only from the recorded etag) and the input deleted (only while it holds that etag);
 * 3. only then is the move recorded as done.
 *
 * A target is never replaced, and the input is removed only once the target holds its very
 * bytes (the same file, or the same SHA-256), never on a size alone. A run that stopped
 * anywhere in between is finished by the next one. When neither the input (at the recorded
 * etag) nor the target exists, the delivery's bytes are gone (deleted or replaced before they
 * could be moved): the record gets `archivalStatus: FAILED` with the reason, so it is
 * finished (visible in `status`) instead of failing every later run; a new file at the key is
 * a new delivery.
 */
export async function moveOut(
  ctx: PipelineContext,
  found: FileRecord,
  destination: string,
): Promise<FileRecord> {
  let record = found;
  if (record.archivalStatus === "SUCCESS" || record.archivalStatus === "FAILED") return record;
  record = await recordDestination(ctx, record, destination);
  const source = record.fileKey;
  const target = record.archivedKey!;
  const objects = ctx.objects;
  const look = () => Promise.all([objects.head(source), objects.head(target)]);
  let [from, to] = await look();
  if (from?.etag === record.etag && to === undefined) {
    try {
      if (objects.move !== undefined) {
        // One step where the store can (a rename): the source is gone exactly when the target is there.
        await objects.move(source, target, { ifMatch: record.etag });
      } else {
        await objects.copy(source, target, { ifMatch: record.etag });
        await objects.delete(source, { ifMatch: record.etag });
      }
      return moved(ctx, record, target);
    } catch (err) {
      // Another run moved it first, or the input was replaced meanwhile: look again.
      if (!(err instanceof ConditionFailedError)) throw err;
      [from, to] = await look();
    }
  }
  if (to !== undefined) {
    if (from?.etag === record.etag) {
      // Copied (by this delivery: the target's key is its own), not yet removed from the input:
      // the copy recorded by pinCopy, or one whose bytes are the input's.
      if (to.etag !== record.archivedEtag && !(await sameBytes(objects, from, to)))
        throw new MoveError(
          `'${target}' exists and holds other bytes than '${source}'; nothing removed`,
          source,
        );
      await objects.delete(source, { ifMatch: record.etag });
    }
    return moved(ctx, record, target);
  }
  const why =
    from === undefined
      ? `'${source}' is gone and was never moved to '${target}'`
      : `'${source}' was replaced (etag ${from.etag}, not ${record.etag}) before it was moved`;
  const counted = record.kpiIngestionStatus === "SUCCESS";
  ctx.logger.error("file lost before it was moved", {
    fileKey: source,
    runId: ctx.runId,
    to: target,
    counted,
  });
  return closeLost(
    ctx,
    record,
    counted ? `${why}; its rows were loaded and stay counted` : `${why}; nothing of it was counted`,
  );
}

/** Closes a record whose bytes are gone (`archivalStatus: FAILED`, with why): finished, not retried. */
function closeLost(
  ctx: PipelineContext,
  record: FileRecord,
  message: string,
  changes: { readonly kpiIngestionStatus?: "SKIPPED" } = {},
): Promise<FileRecord> {
  return updateRecord(ctx, record, {
    archivalStatus: "FAILED",
    archivalTimestamp: ctx.clock.now().toISOString(),
    archivalMessage: message,
    ...changes,
  });
}

/** Records where the delivery goes (`archivalStatus: IN_PROGRESS`), unless it is recorded already. */
async function recordDestination(ctx: PipelineContext, record: FileRecord, destination: string) {
  if (record.archivedKey !== undefined && record.archivalStatus === "IN_PROGRESS") return record;
  return updateRecord(ctx, record, {
    archivalStatus: "IN_PROGRESS",
    archivedKey: record.archivedKey ?? destination,
    archivalTimestamp: ctx.clock.now().toISOString(),
  });
}

/**
 * Copies a valid delivery to its archive key before its KPIs are loaded, so that the bytes
 * counted are the bytes kept: a file replaced or deleted under its key after its rows were
 * loaded is still in the archive. The copy is pinned to the validated etag and its etag
 * recorded (`archivedEtag`); the archive stage then only removes the input ({@link moveOut}),
 * and only while it still holds those bytes. Returns the record; when the input no longer
 * holds the validated bytes, nothing of the delivery was counted, and the record comes back
 * closed (`archivalStatus: FAILED`, KPI ingestion `SKIPPED`), so that a new file at the key is
 * a new delivery.
 */
export async function pinCopy(
  ctx: PipelineContext,
  found: FileRecord,
  destination: string,
): Promise<FileRecord> {
  if (found.archivedEtag !== undefined) return found;
  const record = await recordDestination(ctx, found, destination);
  const source = record.fileKey;
  const target = record.archivedKey!;
  const objects = ctx.objects;
  const to = await objects.head(target);
  let etag: string | undefined;
  if (to !== undefined) {
    // Copied by an earlier attempt that stopped before recording it: kept if it is these bytes.
    if ((await digestOf(objects, target)) !== record.contentSha256)
      throw new MoveError(`'${target}' exists and holds other bytes than '${source}'`, source);
    etag = to.etag;
  } else {
    try {
      etag = (await objects.copy(source, target, { ifMatch: record.etag })).etag;
    } catch (err) {
      if (!(err instanceof ConditionFailedError || err instanceof ObjectNotFoundError)) throw err;
    }
  }
  if (etag === undefined) {
    const why = `'${source}' was replaced or removed after it was validated, before its KPIs were counted`;
    ctx.logger.warn("file changed before it was counted", { fileKey: source, runId: ctx.runId });
    return closeLost(
      ctx,
      record,
      `${why}; nothing of it was counted (a file now at the key is a new delivery)`,
      {
        kpiIngestionStatus: "SKIPPED",
      },
    );
  }
  return updateRecord(ctx, record, { archivedEtag: etag });
}

function moved(ctx: PipelineContext, record: FileRecord, target: string): Promise<FileRecord> {
  ctx.logger.info("file moved", { fileKey: record.fileKey, runId: ctx.runId, to: target });
  return updateRecord(ctx, record, {
    archivalStatus: "SUCCESS",
    archivalTimestamp: ctx.clock.now().toISOString(),
    archivalMessage: `moved to ${target}`,
  });
}
