import { ConditionFailedError, MusicpipeError } from "../errors/index.js";
import { KpiAccumulator } from "../kpi/accumulator.js";
import type { KpiSet } from "../kpi/types.js";
import { kpiObjectKeys } from "../layout/index.js";
import type { DayKpis, StoredPartial } from "../ports/tables.js";
import type { PipelineContext } from "./context.js";
import { recordStage } from "./metrics.js";
import { updateRecord, withRecord } from "./record.js";
import { type StageResult, stageResult } from "./result.js";
import { StageOrderError } from "./transform.js";

/** What loading one listen date did. */
export interface DateLoad {
  readonly listenDate: string;
  /** `false` when the stored KPIs already covered every partial of the date. */
  readonly written: boolean;
  /** Partials merged. */
  readonly sources: number;
}

async function collect(ctx: PipelineContext, listenDate: string): Promise<StoredPartial[]> {
  const parts: StoredPartial[] = [];
  for await (const part of ctx.partials.listDate(listenDate)) parts.push(part);
  return parts;
}

function jsonLines(items: readonly object[]): string {
  return items.map((item) => `${JSON.stringify(item)}\n`).join("");
}

/**
 * Recomputes one listen date from all of its stored partials and writes its three KPI sets to
 * the KPI store and as JSON Lines under `<kpis>YYYY/MM/DD/`. The KPI store write is
 * conditional on the version read first, and never replaces KPIs built from partials this
 * load did not see, so concurrent loads of a date cannot lose a file's contribution.
 */
export async function loadListenDate(ctx: PipelineContext, listenDate: string, tries = 8): Promise<DateLoad> {
  for (let attempt = 1; ; attempt++) {
    const stored = await ctx.kpis.getDay(listenDate);
    const parts = await collect(ctx, listenDate);
    const sources = parts.map((p) => p.fingerprint).sort();
    const seen = new Set(sources);
    if (stored?.sources.some((s) => !seen.has(s))) {
      // Stored KPIs include a partial this listing missed (eventual consistency): look again.
      if (attempt >= tries)
        throw new MusicpipeError(
          "stale_partials",
          `KPIs of ${listenDate} cover partials that cannot be listed`,
        );
      continue;
    }
    if (stored !== undefined && stored.sources.length === sources.length)
      return { listenDate, written: false, sources: sources.length };
    const kpis = KpiAccumulator.merge(parts.map((p) => KpiAccumulator.fromState(p.state))).finalize();
    const day = dayOf(listenDate, kpis, sources, ctx.clock.now().toISOString());
    const keys = kpiObjectKeys(ctx.layout, listenDate);
    await Promise.all([
      ctx.objects.put(keys.genreStats, jsonLines(day.genreStats), { contentType: "application/x-ndjson" }),
      ctx.objects.put(keys.topSongs, jsonLines(day.topSongs), { contentType: "application/x-ndjson" }),
      ctx.objects.put(keys.topGenres, jsonLines(day.topGenres), { contentType: "application/x-ndjson" }),
    ]);
    try {
      await ctx.kpis.putDay(day, stored?.version ?? 0);
      return { listenDate, written: true, sources: sources.length };
    } catch (err) {
      if (!(err instanceof ConditionFailedError) || attempt >= tries) throw err;
    }
  }
}

function dayOf(
  listenDate: string,
  kpis: KpiSet,
  sources: string[],
  updatedAt: string,
): Omit<DayKpis, "version"> {
  return {
    listenDate,
    genreStats: kpis.genreStats.filter((g) => g.listenDate === listenDate),
    topSongs: kpis.topSongs.filter((s) => s.listenDate === listenDate),
    topGenres: kpis.topGenres.filter((g) => g.listenDate === listenDate),
    sources,
    updatedAt,
  };
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
    if (found.validationStatus === "FAILED") return stageResult("load", found, "SKIPPED");
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
