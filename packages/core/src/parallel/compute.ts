import { CompactKpis } from "../fast/compact.js";
import { mergeRanges, planRanges, rangeReadStart } from "../fast/ranges.js";
import {
  FastPathUnsupported,
  parseStreamsHeader,
  type RangeResult,
  type StreamsHeader,
} from "../fast/scan.js";
import { type InputFile, loadCatalogWith } from "../kpi/catalog.js";
import {
  computeKpis,
  computeStreamsPartial,
  indexOf,
  type KpiInput,
  type KpiOptions,
} from "../kpi/compute.js";
import type { KpiSet } from "../kpi/types.js";
import type { FileReport } from "../validate/index.js";
import { KpiWorkerPool } from "./pool.js";

/** Options of {@link computeKpisParallel}. */
export interface ParallelKpiOptions extends KpiOptions {
  /**
   * Worker threads; fewer than 2 computes in the calling thread.
   * @default one per core
   */
  readonly threads?: number | undefined;
  /** Called with each file's report (catalog files first, then streams files as they finish). */
  readonly onFile?: ((report: FileReport) => void) | undefined;
  /**
   * A plain streams file with `size` and `openFrom` is read in byte ranges by several workers
   * when there are fewer files than workers, in ranges of at least this many bytes.
   * @default 64 MiB
   */
  readonly minRangeBytes?: number | undefined;
}

/** The header of a plain streams file, from its first line; `undefined` when it should not be split. */
async function headerOf(file: InputFile): Promise<StreamsHeader | undefined> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const source = await file.open();
  for await (const chunk of source) {
    const nl = chunk.indexOf(10);
    chunks.push(nl === -1 ? chunk : chunk.subarray(0, nl));
    length += chunks.at(-1)!.length;
    if (nl !== -1 || length > 64 * 1024) break;
  }
  const line = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    line.set(c, at);
    at += c.length;
  }
  try {
    return parseStreamsHeader(new TextDecoder().decode(line));
  } catch (err) {
    if (err instanceof FastPathUnsupported) return undefined;
    throw err;
  }
}

/**
 * `computeKpis` with worker threads: the workers read the songs and users files (in parallel)
 * and scan the streams files, reading ahead while the main thread builds the catalog index;
 * fewer files than workers are split into byte ranges (the ranges' partials merge exactly;
 * docs/performance.md, "Byte ranges"); files the fast row source does not take are read by the
 * general reader in the calling thread. The result equals `computeKpis`' (the tests compare them).
 *
 * @example
 * const { kpis, files } = await computeKpisParallel({ streams, songs, users }, { threads: 4 });
 */
export async function computeKpisParallel(
  input: KpiInput,
  options: ParallelKpiOptions = {},
): Promise<{ kpis: KpiSet; files: FileReport[] }> {
  const streams = [...input.streams];
  const threads = options.threads ?? KpiWorkerPool.defaultThreads();
  const fast = options.fastPath !== false && options.schemas?.streams === undefined;
  const pool = streams.length === 0 || !fast ? undefined : await KpiWorkerPool.start(threads, options);
  if (pool === undefined) {
    const run = await computeKpis({ ...input, streams }, options);
    return { kpis: run.kpis, files: run.files };
  }
  try {
    // The streams tasks, queued behind the catalog reads: whole files, or ranges when files are
    // fewer than workers.
    const minRange = options.minRangeBytes ?? 64 * 1024 * 1024;
    const tasks: {
      file: number;
      span?: { start: number; end: number };
      /** The range's place among its file's ranges. */
      part?: number;
      header?: StreamsHeader;
    }[] = [];
    for (const [i, file] of streams.entries()) {
      const splittable =
        streams.length < pool.threads && file.size !== undefined && file.openFrom !== undefined;
      const spans =
        splittable && !/\.gz$/i.test(file.name) ? planRanges(file.size!, pool.threads, minRange) : [];
      const header = spans.length > 1 ? await headerOf(file) : undefined;
      if (header === undefined) tasks.push({ file: i });
      else
        for (const [part, span] of spans.entries())
          tasks.push({ file: i, span, part, ...(part > 0 ? { header } : {}) });
    }

    const catalogLoading = (async () => {
      const loaded = await loadCatalogWith(input, options, (file, kind) =>
        pool.catalogFile(file.name, kind, () => file.open(), { indexed: true }),
      );
      for (const report of loaded.reports) options.onFile?.(report);
      const index = indexOf(loaded.catalog);
      pool.shareIndex(index);
      return { ...loaded, index, total: new CompactKpis(index) };
    })();
    catalogLoading.catch(() => {});

    const streamsReports: FileReport[] = new Array(streams.length);
    const finish = (file: number, report: FileReport) => {
      streamsReports[file] = report;
      options.onFile?.(report);
    };
    const general = async (file: number) => {
      const { catalog, total } = await catalogLoading;
      const source = streams[file]!;
      const { report, partial } = await computeStreamsPartial(
        await source.open(),
        source.name,
        catalog,
        options,
      );
      if (report.accepted) total.mergeState(partial.toState());
      finish(file, report);
    };
    const ranges = new Map<number, (RangeResult | undefined)[]>();
    const fellBack = new Set<number>();
    const scans = tasks.map(async (task) => {
      const file = streams[task.file]!;
      const span = task.span;
      const open = span === undefined ? () => file.open() : () => file.openFrom!(rangeReadStart(span));
      const reply = await pool.streamsFile(file.name, open, {
        range: span === undefined ? undefined : { span, header: task.header },
      });
      if (reply === undefined || fellBack.has(task.file)) {
        if (!fellBack.has(task.file)) {
          fellBack.add(task.file);
          await general(task.file);
        }
        return;
      }
      const { index, total } = await catalogLoading;
      if (span === undefined) {
        if (reply.partial !== undefined) total.mergeTransfer(reply.partial);
        finish(task.file, reply.report);
        return;
      }
      const compact = new CompactKpis(index);
      if (reply.partial !== undefined) compact.mergeTransfer(reply.partial);
      let parts = ranges.get(task.file);
      if (parts === undefined) {
        parts = tasks.filter((x) => x.file === task.file).map(() => undefined);
        ranges.set(task.file, parts);
      }
      parts[task.part!] = { report: reply.report, compact, ...reply.range! };
      if (parts.some((p) => p === undefined)) return;
      try {
        const merged = mergeRanges(file.name, index, parts as RangeResult[], options);
        if (merged.report.accepted) total.merge(merged.compact);
        finish(task.file, merged.report);
      } catch (err) {
        if (!(err instanceof FastPathUnsupported)) throw err;
        fellBack.add(task.file);
        await general(task.file);
      }
    });
    const loaded = await catalogLoading;
    await Promise.all(scans);
    return { kpis: loaded.total.finalize(), files: [...loaded.reports, ...streamsReports] };
  } finally {
    await pool.close();
  }
}
