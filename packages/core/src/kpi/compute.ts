import type { z } from "zod";
import type { ByteSource } from "../csv/index.js";
import { indexOf } from "../fast/catalog-index.js";
import { CompactKpis } from "../fast/compact.js";
import { FastPathUnsupported, scanStreamsFast } from "../fast/scan.js";
import { type StreamRow, streamsSchema, type TableSchema } from "../schema/index.js";
import {
  type FileReport,
  type ScanOptions,
  scanTable,
  UNKNOWN_USER,
  unknownTrack,
} from "../validate/index.js";
import { KpiAccumulator } from "./accumulator.js";
import { type Catalog, type CatalogSchemas, type InputFile, loadCatalog } from "./catalog.js";
import type { KpiSet } from "./types.js";

export { indexOf } from "../fast/catalog-index.js";

/** A field problem as a row verdict of `column`, worded as every reader words it. */
function inColumn(column: string, problem: { readonly code: string; readonly message: string }) {
  return { code: problem.code, column, message: `${column} ${problem.message}` };
}

/** Options of {@link computeStreamsPartial} and {@link computeKpis}. */
export interface KpiOptions extends ScanOptions {
  /** Replace the built-in schemas, e.g. to require extra columns. */
  readonly schemas?:
    | (CatalogSchemas & { readonly streams?: TableSchema<z.ZodObject> | undefined })
    | undefined;
  /**
   * Read streams files with the fast byte-level row source when they allow it (no quoted
   * fields, the built-in streams schema), falling back to the general reader per file. Both
   * give the same reports and KPIs; turn it off only to compare them.
   * @default true
   */
  readonly fastPath?: boolean | undefined;
}

/** The KPI partial of one streams file, and what was found reading it. */
export interface StreamsFileResult {
  readonly report: FileReport;
  /** The file's contribution; empty when the file was rejected. */
  readonly partial: KpiAccumulator;
}

/**
 * Reads one streams file and computes its KPI partial against `catalog`. Rows with an empty
 * key field, an unparseable `listen_time`, an unknown track or an unknown user are dropped
 * with a reason; an exact duplicate (same user, track and instant) of an earlier row of the
 * same file counts once. A rejected file yields an empty partial.
 */
export async function computeStreamsPartial(
  source: ByteSource,
  name: string,
  catalog: Catalog,
  options: KpiOptions = {},
): Promise<StreamsFileResult> {
  const partial = new KpiAccumulator();
  const seen = new Set<string>();
  const schema = (options.schemas?.streams ?? streamsSchema) as TableSchema<typeof streamsSchema.row>;
  const report = await scanTable(
    source,
    name,
    schema,
    (row: StreamRow) => {
      const track = catalog.track(row.track_id);
      if (track === undefined) return inColumn("track_id", unknownTrack(row.track_id));
      if (!catalog.hasUser(row.user_id)) return inColumn("user_id", UNKNOWN_USER);
      // Length-prefixed, so no choice of ids can make two different rows share a key.
      const key = `${row.user_id.length}:${row.user_id}${row.track_id.length}:${row.track_id}${row.listen_time.instant}`;
      if (seen.has(key)) return "duplicate";
      seen.add(key);
      partial.add(row.listen_time.date, row.user_id, track);
      return undefined;
    },
    options,
  );
  return { report, partial: report.accepted ? partial : new KpiAccumulator() };
}

/**
 * Reads one streams file, with the fast row source when the file allows it (see
 * {@link KpiOptions.fastPath}), otherwise with the general reader, which opens the file
 * again. Both give the same report and partial. `open` must give the same bytes each time.
 */
export async function readStreamsFile(
  open: () => ByteSource | Promise<ByteSource>,
  name: string,
  catalog: Catalog,
  options: KpiOptions = {},
): Promise<StreamsFileResult> {
  const { report, compact } = await readStreamsCompact(open, name, catalog, options);
  return {
    report,
    partial: report.accepted ? KpiAccumulator.fromState(compact.toState()) : new KpiAccumulator(),
  };
}

/**
 * {@link readStreamsFile} with the partial in the fast row source's form (numbers of the
 * catalog's index). Internal to the package.
 */
export async function readStreamsCompact(
  open: () => ByteSource | Promise<ByteSource>,
  name: string,
  catalog: Catalog,
  options: KpiOptions = {},
): Promise<{ report: FileReport; compact: CompactKpis }> {
  const index = indexOf(catalog);
  if (options.fastPath !== false && options.schemas?.streams === undefined) {
    try {
      const { report, compact } = await scanStreamsFast(await open(), name, index, options);
      return { report, compact: report.accepted ? compact : new CompactKpis(index) };
    } catch (err) {
      if (!(err instanceof FastPathUnsupported)) throw err;
    }
  }
  const { report, partial } = await computeStreamsPartial(await open(), name, catalog, options);
  const compact = new CompactKpis(index);
  if (report.accepted) compact.mergeState(partial.toState());
  return { report, compact };
}

/** Inputs of {@link computeKpis}. */
export interface KpiInput {
  readonly streams: Iterable<InputFile>;
  readonly songs: Iterable<InputFile>;
  readonly users: Iterable<InputFile>;
}

/** The result of {@link computeKpis}. */
export interface KpiRun {
  readonly kpis: KpiSet;
  /** The merged partial of every accepted streams file (built when first read). */
  readonly partial: KpiAccumulator;
  /** One report per file read: songs, users, then streams. */
  readonly files: FileReport[];
}

/**
 * The whole KPI computation over local inputs, with no state: builds the catalog from the
 * songs and users files, computes each streams file's partial, merges the accepted ones and
 * finalises. Rejected files are reported, not thrown.
 *
 * @example
 * const { kpis, files } = await computeKpis({ streams: [file("s.csv")], songs: [file("songs.csv")], users: [file("u.csv")] });
 */
export async function computeKpis(
  input: KpiInput,
  options: KpiOptions & { readonly onFile?: ((report: FileReport) => void) | undefined } = {},
): Promise<KpiRun> {
  const { catalog, reports } = await loadCatalog(input, options);
  for (const report of reports) options.onFile?.(report);
  const fast = options.fastPath !== false && options.schemas?.streams === undefined;
  const index = fast ? indexOf(catalog) : undefined;
  const compact = index === undefined ? undefined : new CompactKpis(index);
  const general = new KpiAccumulator();
  for (const file of input.streams) {
    let report: FileReport | undefined;
    if (compact !== undefined) {
      try {
        const result = await scanStreamsFast(await file.open(), file.name, compact.index, options);
        report = result.report;
        if (report.accepted) compact.merge(result.compact);
      } catch (err) {
        if (!(err instanceof FastPathUnsupported)) throw err;
      }
    }
    if (report === undefined) {
      const result = await computeStreamsPartial(await file.open(), file.name, catalog, options);
      report = result.report;
      if (compact !== undefined) compact.mergeState(result.partial.toState());
      else general.merge(result.partial);
    }
    options.onFile?.(report);
    reports.push(report);
  }
  let partial: KpiAccumulator | undefined;
  return {
    kpis: compact?.finalize() ?? general.finalize(),
    get partial() {
      partial ??= compact === undefined ? general : KpiAccumulator.fromState(compact.toState());
      return partial;
    },
    files: reports,
  };
}
