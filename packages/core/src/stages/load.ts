import { randomUUID } from "node:crypto";
import pLimit from "p-limit";
import { ConditionFailedError, MusicpipeError, ObjectNotFoundError } from "../errors/index.js";
import type { KpiSet } from "../kpi/types.js";
import { dayStatePrefix, kpiObjectKeys } from "../layout/index.js";
import type { DayKpis, DayStatePointer, PartialEntry } from "../ports/tables.js";
import { BLOB_HEADER_BYTES } from "../state/codec.js";
import {
  absorb,
  type DayShard,
  decodeDayShard,
  encodeDayShard,
  readShardSummary,
  type ShardSummary,
  type SourcePartial,
  summarize,
} from "../state/day-state.js";
import { dayKpis } from "../state/finalize.js";
import { decodePartialDay } from "../state/partial.js";
import { type PipelineContext, readAll } from "./context.js";
import { recordStage } from "./metrics.js";
import { updateRecord, withRecord } from "./record.js";
import { type StageResult, stageResult } from "./result.js";
import { StageOrderError } from "./transform.js";

/** What loading one listen date did. */
export interface DateLoad {
  readonly listenDate: string;
  /** `false` when the stored KPIs already covered every partial of the date. */
  readonly written: boolean;
  /** Partials (distinct file contents) the date includes. */
  readonly sources: number;
  /** Partials this load merged into the date's state. */
  readonly absorbed: number;
}

/** What loading one listener shard of a date did. */
export interface ShardLoad {
  readonly listenDate: string;
  readonly shard: number;
  readonly shards: number;
  /** The shard's summary after the load (`undefined`: the date has nothing stored or to store). */
  readonly summary: ShardSummary | undefined;
  /** Partials merged by this load. */
  readonly absorbed: number;
}

/** Partials merged into a state per write, at most (and about this many bytes of them). */
const BATCH_PARTIALS = 512;
const BATCH_BYTES = 128 * 1024 * 1024;
/** How often a load starts over after another writer changed what it read. */
const TRIES = 12;

function jsonLines(items: readonly object[]): string {
  return items.map((item) => `${JSON.stringify(item)}\n`).join("");
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The listener shards of a date: those it is stored with, else the configured count. */
async function shardsOf(ctx: PipelineContext, listenDate: string): Promise<number> {
  return (await ctx.days.get(listenDate, 0))?.shards ?? ctx.listenerShards;
}

/** Bytes of a blob's header and head (its summary): what a ranged read needs. */
function summaryBytesOf(blob: Uint8Array): number {
  return BLOB_HEADER_BYTES + new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(8, true);
}

/** Another writer changed what a load read (a pointer, a blob it pointed to, a partial): start over. */
class Overtaken extends Error {}

/** Reads an object that may have been replaced since it was listed; gone means overtaken. */
async function readOrOvertaken(read: () => Promise<Uint8Array>): Promise<Uint8Array> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw new Overtaken();
    throw err;
  }
}

/** Deletes the stored states of a shard older than (or orphaned beside) the one now pointed to. */
async function removeStale(
  ctx: PipelineContext,
  listenDate: string,
  shard: number,
  current: DayStatePointer,
) {
  const prefix = dayStatePrefix(ctx.layout, listenDate, shard);
  for await (const info of ctx.stateObjects.list(prefix)) {
    if (info.key === current.stateKey) continue;
    const version = Number(info.key.slice(prefix.length).split("-")[0]);
    // A newer version belongs to a writer that got ahead; leave it.
    if (Number.isInteger(version) && version <= current.version) await ctx.stateObjects.delete(info.key);
  }
}

/**
 * Loads one listener shard of a listen date: merges the partials of the date (those given, or
 * all listed) that the shard does not include yet into its stored state, in batches, each
 * written as a new state blob and committed with a conditional write of the shard's pointer
 * (a concurrent load of the shard makes this one read again and merge what is left, so no
 * contribution is lost). A partial already included changes nothing. This is what a fan-out
 * calls per `{ listenDate, shard }`; then {@link finalizeDay}.
 */
export async function loadDayShard(
  ctx: PipelineContext,
  listenDate: string,
  shard: number,
  listed?: readonly PartialEntry[],
): Promise<ShardLoad> {
  let absorbed = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const entries = listed ?? (await collect(ctx.partials.listDate(listenDate)));
      let pointer = await ctx.days.get(listenDate, shard);
      // Shard 0's pointer was just read: none means the date is new.
      const shards = pointer?.shards ?? (shard === 0 ? ctx.listenerShards : await shardsOf(ctx, listenDate));
      if (!Number.isInteger(shard) || shard < 0 || shard >= shards)
        throw new MusicpipeError(
          "invalid_shard",
          `${listenDate} has ${shards} listener shard${shards === 1 ? "" : "s"} (0 to ${shards - 1}), not shard ${shard}`,
        );
      let state: DayShard | undefined;
      let summary: ShardSummary | undefined;
      if (pointer !== undefined) {
        const decoded = decodeDayShard(
          await readOrOvertaken(() => readAll(ctx.stateObjects, pointer!.stateKey)),
          pointer.stateKey,
        );
        state = decoded.state;
        summary = decoded.summary;
      }
      for (;;) {
        const included = new Set(state?.sources ?? []);
        const fresh = entries.filter((e) => !included.has(e.fingerprint));
        if (fresh.length === 0) return { listenDate, shard, shards, summary, absorbed };
        const batch: SourcePartial[] = [];
        let bytes = 0;
        for (const entry of fresh) {
          if (batch.length >= BATCH_PARTIALS || bytes >= BATCH_BYTES) break;
          // Deleted since listed: merged into every shard by another load (this one is behind).
          const blob = await readOrOvertaken(() => entry.read());
          bytes += blob.length;
          batch.push({
            fingerprint: entry.fingerprint,
            day: decodePartialDay(blob, `partial ${listenDate}/${entry.fingerprint}`, shard),
          });
        }
        const next = await absorb(state, batch, { listenDate, shard, shards }, ctx.compiledCatalog);
        if (next === undefined) return { listenDate, shard, shards, summary, absorbed };
        const nextSummary = summarize(
          next,
          shard === 0 ? await ctx.compiledCatalog(next.catalog) : undefined,
        );
        const blob = encodeDayShard(next, nextSummary);
        const version = (pointer?.version ?? 0) + 1;
        const stateKey = `${dayStatePrefix(ctx.layout, listenDate, shard)}${version}-${randomUUID()}.mps`;
        await ctx.stateObjects.put(stateKey, blob, { contentType: "application/octet-stream" });
        let written: DayStatePointer;
        try {
          written = await ctx.days.put(
            {
              listenDate,
              shard,
              shards,
              stateKey,
              summaryBytes: summaryBytesOf(blob),
              sourceCount: nextSummary.sourceCount,
              sourcesDigest: nextSummary.sourcesDigest,
              catalog: next.catalog,
              updatedAt: ctx.clock.now().toISOString(),
            },
            pointer?.version ?? 0,
          );
        } catch (err) {
          await ctx.stateObjects.delete(stateKey);
          if (err instanceof ConditionFailedError) throw new Overtaken();
          throw err;
        }
        absorbed += batch.length;
        await removeStale(ctx, listenDate, shard, written);
        pointer = written;
        state = next;
        summary = nextSummary;
      }
    } catch (err) {
      if (!(err instanceof Overtaken)) throw err;
      if (attempt >= TRIES)
        throw new MusicpipeError(
          "load_conflict",
          `listener shard ${shard} of ${listenDate} kept changing while it was loaded (${TRIES} tries)`,
        );
      ctx.logger.debug("day state changed concurrently; loading it again", { listenDate, shard, attempt });
    }
  }
}

/** What {@link finalizeDay} did. */
export interface DayFinal {
  readonly listenDate: string;
  /** `false` when the shards do not all include the same partials yet (a load is under way). */
  readonly consistent: boolean;
  /** Whether the KPIs were written (`false`: already up to date, or not consistent). */
  readonly written: boolean;
  /** Partials the date includes. */
  readonly sources: number;
}

function dayOf(
  listenDate: string,
  kpis: KpiSet,
  summary: ShardSummary,
  updatedAt: string,
): Omit<DayKpis, "version"> {
  return {
    listenDate,
    genreStats: kpis.genreStats,
    topSongs: kpis.topSongs,
    topGenres: kpis.topGenres,
    sourceCount: summary.sourceCount,
    sourcesDigest: summary.sourcesDigest,
    updatedAt,
  };
}

/**
 * Writes a listen date's KPI sets from the summaries of its shards, to the KPI store and as
 * JSON Lines under `<kpis>YYYY/MM/DD/`, when every shard includes the same partials and the
 * stored KPIs include fewer (the write is conditional on the version read: concurrent
 * finalisations cannot go back in time). `known` gives summaries the caller has (the others
 * are read with a byte range of their blobs).
 */
export async function finalizeDay(
  ctx: PipelineContext,
  listenDate: string,
  known: ReadonlyMap<number, ShardSummary> = new Map(),
): Promise<DayFinal> {
  for (let attempt = 1; ; attempt++) {
    try {
      const first = await ctx.days.get(listenDate, 0);
      if (first === undefined) return { listenDate, consistent: true, written: false, sources: 0 };
      const pointers: DayStatePointer[] = [first];
      for (let s = 1; s < first.shards; s++) {
        const p = await ctx.days.get(listenDate, s);
        if (p === undefined)
          return { listenDate, consistent: false, written: false, sources: first.sourceCount };
        pointers.push(p);
      }
      if (
        pointers.some((p) => p.sourcesDigest !== first.sourcesDigest || p.sourceCount !== first.sourceCount)
      )
        return { listenDate, consistent: false, written: false, sources: first.sourceCount };
      const stored = await ctx.kpis.getDay(listenDate);
      if (
        stored !== undefined &&
        (stored.sourcesDigest === first.sourcesDigest || stored.sourceCount > first.sourceCount)
      )
        return { listenDate, consistent: true, written: false, sources: first.sourceCount };
      const summaries = await Promise.all(
        pointers.map(async (p) => {
          const have = known.get(p.shard);
          if (
            have !== undefined &&
            have.sourcesDigest === p.sourcesDigest &&
            have.sourceCount === p.sourceCount
          )
            return have;
          const head = await readOrOvertaken(() =>
            readAll(ctx.stateObjects, p.stateKey, { start: 0, end: p.summaryBytes }),
          );
          return readShardSummary(head, p.stateKey);
        }),
      );
      const kpis = dayKpis(summaries);
      if (kpis === undefined)
        return { listenDate, consistent: false, written: false, sources: first.sourceCount };
      const day = dayOf(listenDate, kpis, summaries[0]!, ctx.clock.now().toISOString());
      const keys = kpiObjectKeys(ctx.layout, listenDate);
      await Promise.all([
        ctx.objects.put(keys.genreStats, jsonLines(day.genreStats), { contentType: "application/x-ndjson" }),
        ctx.objects.put(keys.topSongs, jsonLines(day.topSongs), { contentType: "application/x-ndjson" }),
        ctx.objects.put(keys.topGenres, jsonLines(day.topGenres), { contentType: "application/x-ndjson" }),
      ]);
      try {
        await ctx.kpis.putDay(day, stored?.version ?? 0);
      } catch (err) {
        if (err instanceof ConditionFailedError) throw new Overtaken();
        throw err;
      }
      return { listenDate, consistent: true, written: true, sources: first.sourceCount };
    } catch (err) {
      if (!(err instanceof Overtaken)) throw err;
      if (attempt >= TRIES)
        throw new MusicpipeError(
          "load_conflict",
          `the KPIs of ${listenDate} kept changing while they were written`,
        );
    }
  }
}

/**
 * Finishes a date loaded shard by shard (a fan-out ran {@link loadDayShard} for every shard):
 * writes its KPIs ({@link finalizeDay}) and, when the shards agree, deletes the stored partials
 * they all include. `deleted` counts those.
 */
export async function finishListenDate(
  ctx: PipelineContext,
  listenDate: string,
): Promise<DayFinal & { readonly deleted: number }> {
  const final = await finalizeDay(ctx, listenDate);
  const first = await ctx.days.get(listenDate, 0);
  if (!final.consistent || first === undefined) return { ...final, deleted: 0 };
  // The shards agree (same fingerprints), so shard 0's list is everyone's.
  let sources: ReadonlySet<string>;
  try {
    sources = new Set(
      decodeDayShard(await readAll(ctx.stateObjects, first.stateKey), first.stateKey).state.sources,
    );
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return { ...final, deleted: 0 };
    throw err;
  }
  const entries = (await collect(ctx.partials.listDate(listenDate))).filter((e) =>
    sources.has(e.fingerprint),
  );
  const limit = pLimit(16);
  await Promise.all(entries.map((e) => limit(() => ctx.partials.delete(listenDate, e.fingerprint))));
  return { ...final, deleted: entries.length };
}

/**
 * Loads one listen date: every listener shard merges the partials stored for the date (see
 * {@link loadDayShard}), then the KPI sets are written ({@link finalizeDay}), then the merged
 * partials are deleted (their fingerprints are in every shard). The cost follows the new
 * partials, not the date's history. Concurrent loads of a date never lose a contribution.
 */
export async function loadListenDate(ctx: PipelineContext, listenDate: string): Promise<DateLoad> {
  for (let attempt = 1; ; attempt++) {
    const entries = await collect(ctx.partials.listDate(listenDate));
    const shards = await shardsOf(ctx, listenDate);
    const summaries = new Map<number, ShardSummary>();
    let absorbed = 0;
    for (let shard = 0; shard < shards; shard++) {
      const load = await loadDayShard(ctx, listenDate, shard, entries);
      if (load.summary !== undefined) summaries.set(shard, load.summary);
      absorbed += load.absorbed;
    }
    const final = await finalizeDay(ctx, listenDate, summaries);
    if (!final.consistent) {
      if (attempt >= TRIES)
        throw new MusicpipeError(
          "load_conflict",
          `the shards of ${listenDate} kept changing while it was loaded`,
        );
      continue;
    }
    const limit = pLimit(16);
    await Promise.all(entries.map((e) => limit(() => ctx.partials.delete(listenDate, e.fingerprint))));
    return { listenDate, written: final.written, sources: final.sources, absorbed };
  }
}

/**
 * Stage 3: loads every listen date the file touches ({@link loadListenDate}), then marks its KPI
 * ingestion `SUCCESS`. Dates already up to date are not rewritten.
 */
export async function loadStage(ctx: PipelineContext, key: string): Promise<StageResult> {
  const started = ctx.clock.now().getTime();
  const result = await withRecord(ctx, key, async (found) => {
    if (
      found === undefined ||
      found.validationStatus === "PENDING" ||
      found.kpiIngestionStatus === "PENDING"
    ) {
      throw new StageOrderError(`load of '${key}' before its partials were stored`, key);
    }
    if (found.validationStatus === "FAILED" || found.kpiIngestionStatus === "SKIPPED")
      return stageResult("load", found, "SKIPPED");
    if (found.kpiIngestionStatus === "SUCCESS") return stageResult("load", found, "SUCCESS");
    for (const listenDate of found.listenDates ?? []) await loadListenDate(ctx, listenDate);
    return stageResult("load", await markLoaded(ctx, found), "SUCCESS");
  });
  return recordStage(ctx, "load", started, result);
}

/** Records that every listen date of the file is loaded. */
export function markLoaded(ctx: PipelineContext, record: Parameters<typeof updateRecord>[1]) {
  return updateRecord(ctx, record, {
    kpiIngestionStatus: "SUCCESS",
    kpiIngestionTimestamp: ctx.clock.now().toISOString(),
    kpiIngestionMessage: `KPIs loaded for ${(record.listenDates ?? []).join(", ") || "no dates"}`,
  });
}
