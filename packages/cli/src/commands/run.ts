import { type FileOutcome, type FileReport, MAX_SHARDS, runPending, type SkipReason } from "@musicpipe/core";
import { KpiWorkerPool } from "@musicpipe/core/parallel";
import { boundedNumber, type FlagSpec, parseFlags, UsageError, wholeNumber } from "../args.js";
import { type CliIo, n } from "../io.js";
import { MAX_WORKERS } from "../prestart.js";
import { openTarget, targetFlags, targetUsage } from "../target.js";

export const runUsage = `Usage: musicpipe run --root DIR [--json]
       musicpipe run --target aws --bucket B [--json]

Processes every streams file under data/raw/streams/ through all stages: validate,
transform, load, archive. Valid files end in data/archive/YYYY/MM/DD/<timestamp>_<tag>_<name>,
rejected ones in data/error/<timestamp>_<tag>_<name>, KPIs in data/kpis/YYYY/MM/DD/*.jsonl and the
KPI table. Songs and users files stay where they are. Running it again finishes interrupted work
and counts nothing twice.

${targetUsage}

Options:
  --json                    print the summary as JSON
  --max-bad-row-share X     reject a file when more than this share of rows is bad (default 0.1)
  --max-row-bytes N         reject a file with a row longer than N bytes (default 1M)
  --concurrency N           files validated at once (default: the worker threads, at least 8)
  --workers N               worker threads scanning files, 1 to 64 (default: one per core; 1: none)
  --listener-shards N       listener shards of each new listen date's state (default 1)
  --quiet                   no progress on stderr

Exit status: 0 all files accepted, 1 a file was rejected or a stage failed, 2 usage error.`;

const spec: FlagSpec = {
  ...targetFlags,
  json: "boolean",
  quiet: "boolean",
  "max-bad-row-share": "string",
  "max-row-bytes": "string",
  concurrency: "string",
  workers: "string",
  "listener-shards": "string",
};

/** `musicpipe run`: returns the exit status. */
export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, spec);
  const validation = {
    maxBadRowShare: boundedNumber(flags, "max-bad-row-share", 0.1, 0, 1),
    maxRowBytes: wholeNumber(flags, "max-row-bytes", 1024 * 1024, 1),
  };
  const listenerShards = wholeNumber(flags, "listener-shards", 1, 1);
  if (listenerShards > MAX_SHARDS)
    throw new UsageError(`option '--listener-shards' must be at most ${MAX_SHARDS}, got ${listenerShards}`);
  const workers = wholeNumber(
    flags,
    "workers",
    Math.min(KpiWorkerPool.defaultThreads(), MAX_WORKERS),
    1,
    MAX_WORKERS,
  );
  const quiet = flags.booleans.has("quiet");
  const started = performance.now();
  // Started on their first task: a run of small files starts none.
  const threads = workers < 2 ? undefined : KpiWorkerPool.lazy(workers, validation);
  let summary: Awaited<ReturnType<typeof runPending>>;
  try {
    const target = await openTarget(flags, { validation, listenerShards, threads });
    await target.check();
    summary = await target.exclusive(() =>
      runPending(target.ctx, {
        concurrency: wholeNumber(flags, "concurrency", Math.max(8, threads?.threads ?? 1), 1),
        onFile: quiet ? undefined : (outcome) => io.stderr(`${describe(outcome)}\n`),
      }),
    );
  } finally {
    await threads?.close();
  }
  const seconds = (performance.now() - started) / 1000;
  // Not processed and not moved: said every time, with or without --quiet.
  for (const entry of summary.skipped) io.stderr(`skipped  ${entry.key}: ${SKIPPED[entry.reason]}\n`);
  if (flags.booleans.has("json")) io.stdout(`${JSON.stringify({ ...summary, seconds }, null, 2)}\n`);
  else
    io.stdout(
      formatRunSummary(
        summary.files,
        summary.dates.map((d) => d.listenDate),
        seconds,
        summary.catalogFiles,
      ),
    );
  return summary.files.some((f) => f.outcome !== "archived") || summary.catalogFiles.some((f) => !f.accepted)
    ? 1
    : 0;
}

/** Why a file under the streams prefix was not processed, as `run` says it. */
const SKIPPED: Record<SkipReason, string> = {
  not_an_input: "not a .csv or .csv.gz file (not_an_input)",
  symbolic_link: "a symbolic link; links are not followed (symbolic_link)",
  not_a_regular_file: "not a regular file (not_a_regular_file)",
  unsafe_name: "a name with a backslash, which keys cannot hold (unsafe_name)",
};

function describe(outcome: FileOutcome): string {
  if (outcome.outcome === "failed")
    return `failed   ${outcome.fileKey}: ${outcome.error?.stage}: ${outcome.error?.message}`;
  const counts = outcome.validation?.rowCounts;
  const rows = counts === undefined ? "" : ` (${n(counts.kept)} of ${n(counts.read)} rows kept)`;
  return `${outcome.outcome.padEnd(8)} ${outcome.fileKey}${rows} -> ${outcome.movedTo ?? "?"}`;
}

/** The human summary of a run. */
export function formatRunSummary(
  files: readonly FileOutcome[],
  dates: readonly string[],
  seconds: number,
  catalogFiles: readonly FileReport[] = [],
): string {
  const by = (o: FileOutcome["outcome"]) => files.filter((f) => f.outcome === o);
  const lines = [
    `Files: ${n(files.length)} processed: ${n(by("archived").length)} archived, ${n(by("rejected").length)} rejected, ${n(by("failed").length)} failed (${seconds.toFixed(1)} s)`,
  ];
  let read = 0;
  let kept = 0;
  let duplicates = 0;
  const dropped = new Map<string, number>();
  for (const f of by("archived")) {
    const c = f.validation?.rowCounts;
    if (c === undefined) continue;
    read += c.read;
    kept += c.kept;
    duplicates += c.duplicates;
    for (const [code, k] of Object.entries(c.badByCode)) dropped.set(code, (dropped.get(code) ?? 0) + k);
  }
  const droppedText = [...dropped].map(([c, k]) => `${c} ${n(k)}`).join(", ");
  lines.push(
    `Rows: ${n(read)} read, ${n(kept)} kept, ${n(duplicates)} duplicates${droppedText === "" ? "" : `, dropped: ${droppedText}`}`,
  );
  for (const f of by("rejected"))
    lines.push(`Rejected (${f.validation?.rejection?.code}): ${f.validation?.message} -> ${f.movedTo}`);
  for (const f of by("failed"))
    lines.push(`Failed at ${f.error?.stage} (${f.error?.code}): ${f.fileKey}: ${f.error?.message}`);
  for (const f of catalogFiles.filter((c) => !c.accepted)) {
    lines.push(`Rejected ${f.kind} file, not used (${f.rejection?.code}): ${f.rejection?.message}`);
  }
  lines.push(`Dates loaded: ${dates.length === 0 ? "none" : dates.join(", ")}`);
  return `${lines.join("\n")}\n`;
}
