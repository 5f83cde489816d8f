// Compute the KPIs of local CSV files with the pure engine: no state, no AWS.
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { computeKpis, type InputFile, type KpiSet } from "@musicpipe/core";

const file = (path: string): InputFile => ({ name: basename(path), open: () => createReadStream(path) });

export async function kpisFromFiles(paths: {
  streams: string[];
  songs: string[];
  users: string[];
}): Promise<KpiSet> {
  const run = await computeKpis(
    { streams: paths.streams.map(file), songs: paths.songs.map(file), users: paths.users.map(file) },
    { maxBadRowShare: 0.05 },
  );
  for (const report of run.files) {
    if (!report.accepted) console.warn(`${report.file} rejected: ${report.rejection?.code}`);
  }
  return run.kpis;
}
