import type { KpiSet } from "@musicpipe/core";
import { type FlagSpec, parseFlags } from "../args.js";
import { type CliIo, checkOutputFile, writeFileAtomic } from "../io.js";
import { kpisToJson } from "../kpi-json.js";
import { openTarget, targetFlags, targetUsage } from "../target.js";

export const exportUsage = `Usage: musicpipe export --root DIR [--out OUT.json]
       musicpipe export --target aws --bucket B [--out OUT.json]

Writes the stored KPIs of every listen date, in the same JSON shape as 'musicpipe kpis'.
Without --out (or with --out -) the JSON goes to stdout.

${targetUsage}`;

const spec: FlagSpec = { ...targetFlags, out: "string" };

/** `musicpipe export`: returns the exit status. */
export async function exportCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, spec);
  const out = flags.strings.get("out");
  if (out !== undefined && out !== "-") await checkOutputFile(out);
  const target = await openTarget(flags);
  await target.reach();
  const { ctx } = target;
  const kpis: {
    genreStats: KpiSet["genreStats"];
    topSongs: KpiSet["topSongs"];
    topGenres: KpiSet["topGenres"];
  } = {
    genreStats: [],
    topSongs: [],
    topGenres: [],
  };
  let days = 0;
  for await (const date of ctx.kpis.listDates()) {
    const day = await ctx.kpis.getDay(date);
    if (day === undefined) continue;
    days++;
    kpis.genreStats.push(...day.genreStats);
    kpis.topSongs.push(...day.topSongs);
    kpis.topGenres.push(...day.topGenres);
  }
  const json = kpisToJson(kpis);
  if (out === undefined || out === "-") io.stdout(json);
  else {
    await writeFileAtomic(out, json);
    io.stdout(`Exported the KPIs of ${days} listen dates to ${out}\n`);
  }
  return 0;
}
