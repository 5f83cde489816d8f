import {
  type Clock,
  createPipelineContext,
  type KpiSet,
  type ObjectStore,
  type PipelineConfig,
  type PipelineContext,
} from "@musicpipe/core";
import { createMemoryObjectStore, createMemoryTables } from "../src/index.js";

export const SONGS =
  'track_id,track_name,track_genre,duration_ms,artists\nt1,"One, the first",pop,1000,A\nt2,Two,rock,2000,B\nt3,Three,pop,3000,C\nt4,Four,jazz,4000,D\n';
export const USERS = "user_id,user_name\nu1,Ann\nu2,Bob\nu3,Cid\n";
export const HEADER = "user_id,track_id,listen_time\n";

/** A clock that starts at a fixed instant and moves 1 ms per reading. */
export function steppingClock(start = Date.UTC(2026, 0, 15, 12, 0, 0)): Clock {
  let now = start;
  return { now: () => new Date(now++) };
}

/** Memory adapters with the catalogs in place, and a pipeline context over them. */
export async function memoryPipeline(overrides: Partial<PipelineConfig> = {}) {
  const objects = createMemoryObjectStore();
  const tables = createMemoryTables();
  await objects.put("data/raw/songs/songs.csv", SONGS);
  await objects.put("data/raw/users/users.csv", USERS);
  const config: PipelineConfig = { objects, ...tables, clock: steppingClock(), ...overrides };
  return { objects, tables, config, context: () => createPipelineContext(config) };
}

export async function keys(objects: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of objects.list(prefix)) out.push(info.key);
  return out;
}

export async function text(objects: ObjectStore, key: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of objects.get(key)) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Every stored day's KPIs as one KPI set (what `musicpipe export` prints). */
export async function storedKpis(ctx: PipelineContext): Promise<KpiSet> {
  const out: KpiSet = { genreStats: [], topSongs: [], topGenres: [] };
  for await (const date of ctx.kpis.listDates()) {
    const day = await ctx.kpis.getDay(date);
    if (day === undefined) continue;
    out.genreStats.push(...day.genreStats);
    out.topSongs.push(...day.topSongs);
    out.topGenres.push(...day.topGenres);
  }
  return out;
}
