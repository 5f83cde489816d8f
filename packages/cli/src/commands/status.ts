import type { FileRecord } from "@musicpipe/core";
import { type FlagSpec, parseFlags } from "../args.js";
import type { CliIo } from "../io.js";
import { openTarget, targetFlags, targetUsage } from "../target.js";

export const statusUsage = `Usage: musicpipe status --root DIR [--json]
       musicpipe status --target aws --bucket B [--json]

Prints one line per file record: key, validation, KPI ingestion and archival status, rows kept
of rows read, deliveries, and where the file went (or the rejection reason).

${targetUsage}`;

const spec: FlagSpec = { ...targetFlags, json: "boolean" };

/** `musicpipe status`: returns the exit status. */
export async function statusCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, spec);
  const target = await openTarget(flags);
  await target.reach();
  const { ctx } = target;
  const records: FileRecord[] = [];
  for await (const record of ctx.files.list()) records.push(record);
  if (flags.booleans.has("json")) {
    io.stdout(`${JSON.stringify(records, null, 2)}\n`);
    return 0;
  }
  if (records.length === 0) {
    io.stdout("No file records yet: run 'musicpipe run' first.\n");
    return 0;
  }
  for (const r of records) io.stdout(`${statusLine(r)}\n`);
  return 0;
}

/** One line describing a record. */
export function statusLine(r: FileRecord): string {
  const rows = r.rowCounts === undefined ? "-" : `${r.rowCounts.kept}/${r.rowCounts.read}`;
  const where =
    r.validationStatus === "FAILED"
      ? `${r.rejection?.code ?? "rejected"} -> ${r.archivedKey ?? "-"}`
      : (r.archivedKey ?? "-");
  return [
    r.fileKey,
    `validation=${r.validationStatus}`,
    `kpis=${r.kpiIngestionStatus}`,
    `archival=${r.archivalStatus}`,
    `rows=${rows}`,
    `deliveries=${r.deliveries}`,
    where,
  ].join("  ");
}
