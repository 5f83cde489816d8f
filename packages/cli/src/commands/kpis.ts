import type { FileReport, KpiSet, ScanProgress } from "@musicpipe/core";
import { computeKpisParallel, KpiWorkerPool } from "@musicpipe/core/parallel";
import { boundedNumber, type FlagSpec, parseFlags, UsageError, wholeNumber } from "../args.js";
import { type CliIo, checkOutputFile, inputFiles, n, writeFileAtomic } from "../io.js";
import { kpisToJson } from "../kpi-json.js";
import { MAX_WORKERS } from "../prestart.js";

export const kpisUsage = `Usage: musicpipe kpis --streams F... --songs F... --users F... [--out OUT.json]

Computes the KPIs over local files, with no state. Each F is a .csv or .csv.gz file, or a
folder whose .csv and .csv.gz files are all read. Songs and users files are read in name order
(the first occurrence of an id wins).

Options:
  --streams F...            streams files or folders (required)
  --songs F...              songs files or folders (required)
  --users F...              users files or folders (required)
  --root DIR                shorthand for DIR/data/raw/{streams,songs,users}
  --out OUT.json            write the KPI JSON here; without it, the JSON goes to stdout
  --max-bad-row-share X     reject a file when more than this share of rows is bad (default 0.1)
  --max-row-bytes N         reject a file with a row longer than N bytes (default 1M)
  --workers N               worker threads scanning streams files, 1 to 64 (default: one per core)
  --quiet                   no progress on stderr

Exit status: 0 all files accepted, 1 a file was rejected (the others still count), 2 usage error.`;

/** Ranges a file is split into for the workers are at least this big (`MUSICPIPE_MIN_RANGE_BYTES` overrides it, for tests). */
const MIN_RANGE_BYTES = Number(process.env.MUSICPIPE_MIN_RANGE_BYTES ?? 64 * 1024 * 1024);

const spec: FlagSpec = {
  streams: "list",
  songs: "list",
  users: "list",
  root: "string",
  out: "string",
  "max-bad-row-share": "string",
  "max-row-bytes": "string",
  workers: "string",
  quiet: "boolean",
};

/** `musicpipe kpis`: returns the exit status. */
export async function kpisCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, spec);
  const out = flags.strings.get("out");
  const root = flags.strings.get("root");
  const paths = (kind: "streams" | "songs" | "users") => {
    const given = flags.lists.get(kind) ?? [];
    if (given.length > 0) return given;
    if (root !== undefined) return [`${root}/data/raw/${kind}`];
    throw new UsageError(`option '--${kind}' is required (or give --root DIR)`);
  };
  const options = {
    maxBadRowShare: boundedNumber(flags, "max-bad-row-share", 0.1, 0, 1),
    maxRowBytes: wholeNumber(flags, "max-row-bytes", 1024 * 1024, 1),
  };
  const threads = wholeNumber(
    flags,
    "workers",
    Math.min(KpiWorkerPool.defaultThreads(), MAX_WORKERS),
    1,
    MAX_WORKERS,
  );
  if (out !== undefined && out !== "-") await checkOutputFile(out);
  const input = {
    streams: await inputFiles(paths("streams")),
    songs: await inputFiles(paths("songs")),
    users: await inputFiles(paths("users")),
  };
  if (input.streams.length === 0) throw new UsageError("no streams files found (.csv or .csv.gz)");
  const quiet = flags.booleans.has("quiet");

  const started = performance.now();
  const run = await computeKpisParallel(input, {
    ...options,
    threads,
    minRangeBytes: MIN_RANGE_BYTES,
    onFile: quiet ? undefined : (report) => io.stderr(`${describeFile(report)}\n`),
    onProgress: quiet ? undefined : progressPrinter(io),
  });
  const seconds = (performance.now() - started) / 1000;
  const json = kpisToJson(run.kpis);
  if (out === undefined || out === "-") io.stdout(json);
  else await writeFileAtomic(out, json);
  const summary = formatSummary(run.kpis, run.files, seconds, out);
  (out === undefined || out === "-" ? io.stderr : io.stdout)(summary);
  return run.files.some((f) => !f.accepted) ? 1 : 0;
}

function progressPrinter(io: CliIo): (p: ScanProgress) => void {
  let last = performance.now();
  return (p) => {
    const now = performance.now();
    if (now - last < 5000) return;
    last = now;
    io.stderr(`  ${p.file}: ${n(p.rowsRead)} rows so far\n`);
  };
}

function describeFile(report: FileReport): string {
  const dropped = Object.entries(report.badRowsByCode)
    .map(([code, count]) => `${code} ${n(count)}`)
    .join(", ");
  const counts = `${n(report.rowsRead)} rows, ${n(report.rowsKept)} kept${report.duplicateRows > 0 ? `, ${n(report.duplicateRows)} duplicates` : ""}${dropped === "" ? "" : `, dropped: ${dropped}`}`;
  if (!report.accepted)
    return `rejected ${report.kind} file (${report.rejection?.code}): ${report.rejection?.message}`;
  return `read ${report.kind} ${report.file}: ${counts}`;
}

/** The readable summary printed after `kpis`: files, rows, and the top genres and songs of each day. */
export function formatSummary(
  kpis: KpiSet,
  files: readonly FileReport[],
  seconds: number,
  out: string | undefined,
): string {
  const lines: string[] = [];
  const streams = files.filter((f) => f.kind === "streams");
  const sum = (pick: (f: FileReport) => number) =>
    streams.filter((f) => f.accepted).reduce((a, f) => a + pick(f), 0);
  const rows = sum((f) => f.rowsRead);
  const dropped = new Map<string, number>();
  for (const f of streams.filter((s) => s.accepted)) {
    for (const [code, count] of Object.entries(f.badRowsByCode))
      dropped.set(code, (dropped.get(code) ?? 0) + count);
  }
  const rejected = files.filter((f) => !f.accepted);
  lines.push(
    `Streams: ${n(streams.length - rejected.filter((f) => f.kind === "streams").length)} of ${n(streams.length)} files accepted, ${n(rows)} rows read, ${n(sum((f) => f.rowsKept))} kept, ${n(sum((f) => f.duplicateRows))} duplicates, ${n(sum((f) => f.badRows))} dropped${
      dropped.size > 0 ? ` (${[...dropped].map(([c, k]) => `${c} ${n(k)}`).join(", ")})` : ""
    } in ${seconds.toFixed(1)} s (${n(Math.round(rows / Math.max(seconds, 1e-9)))} rows/s)`,
  );
  for (const f of rejected) lines.push(`Rejected (${f.rejection?.code}): ${f.rejection?.message}`);
  const dates = [...new Set(kpis.genreStats.map((g) => g.listenDate))];
  lines.push(
    `KPIs: ${n(dates.length)} days, ${n(kpis.genreStats.length)} genre-days${out !== undefined && out !== "-" ? ` -> ${out}` : ""}`,
  );
  const shown = dates.slice(0, 7);
  for (const date of shown) {
    lines.push("", `${date}  top genres, with each genre's top song:`);
    for (const g of kpis.topGenres.filter((t) => t.listenDate === date)) {
      const song = kpis.topSongs.find((s) => s.listenDate === date && s.genre === g.genre && s.rank === 1);
      lines.push(
        `  ${g.rank}. ${g.genre} (${n(g.listenCount)} listens)${song === undefined ? "" : `  top song: ${song.trackName} [${song.trackId}] (${n(song.listenCount)})`}`,
      );
    }
  }
  if (dates.length > shown.length)
    lines.push("", `... and ${n(dates.length - shown.length)} more days in the JSON output`);
  return `${lines.join("\n")}\n`;
}
