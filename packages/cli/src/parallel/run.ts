import { existsSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  type ByteSpan,
  CatalogIndex,
  CompactKpis,
  computeKpis,
  computeStreamsPartial,
  FastPathUnsupported,
  type FileReport,
  type InputFile,
  type KpiOptions,
  type KpiSet,
  loadCatalog,
  mergeRanges,
  parseStreamsHeader,
  planRanges,
  type RangeResult,
  type StreamsHeader,
} from "@musicpipe/core";
import type { WorkerIndex, WorkerReply, WorkerStart, WorkerTask } from "./protocol.js";

const WORKER = new URL("./kpis-worker.js", import.meta.url);

/**
 * Files are split into byte ranges only when there are fewer files than workers, and ranges
 * are at least this big (`MUSICPIPE_MIN_RANGE_BYTES` overrides it, for tests).
 */
const MIN_RANGE_BYTES = Number(process.env.MUSICPIPE_MIN_RANGE_BYTES ?? 64 * 1024 * 1024);

/** `true` when the built worker script is there (it is not when running from the sources). */
export function parallelAvailable(): boolean {
  return WORKER.protocol === "file:" && existsSync(fileURLToPath(WORKER));
}

/** The default number of worker threads: one per core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** The header of a plain streams file, read from its first line; `undefined` when the file should not be split. */
async function headerOf(path: string): Promise<StreamsHeader | undefined> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const nl = buffer.subarray(0, bytesRead).indexOf(10);
    if (nl <= 0) return undefined;
    return parseStreamsHeader(buffer.subarray(0, nl).toString("utf8"));
  } catch (err) {
    if (err instanceof FastPathUnsupported) return undefined;
    throw err;
  } finally {
    await handle.close();
  }
}

interface Task {
  readonly file: number;
  readonly span?: ByteSpan | undefined;
  readonly header?: StreamsHeader | undefined;
}

/**
 * `computeKpis` over local files with worker threads: the main thread reads the catalogs and
 * shares their index; workers scan whole streams files, or byte ranges of them when there are
 * fewer files than workers (section 8: the ranges' partials merge exactly); files the fast path
 * does not take are read by the general reader on the main thread meanwhile. Results are
 * identical to `computeKpis` (the tests compare them).
 */
export async function computeKpisParallel(
  input: {
    readonly streams: readonly InputFile[];
    readonly songs: readonly InputFile[];
    readonly users: readonly InputFile[];
  },
  options: KpiOptions & { readonly onFile?: ((report: FileReport) => void) | undefined },
  workers: number,
): Promise<{ kpis: KpiSet; files: FileReport[] }> {
  if (
    workers < 2 ||
    input.streams.length === 0 ||
    !parallelAvailable() ||
    options.schemas?.streams !== undefined
  ) {
    return computeKpis(input, options);
  }
  // The tasks: whole files, or ranges when files are fewer than workers.
  const tasks: Task[] = [];
  const rangesOf = new Map<number, (RangeResult | undefined)[]>();
  for (const [file, input_] of input.streams.entries()) {
    const size =
      input.streams.length < workers && !/\.gz$/i.test(input_.name) ? (await stat(input_.name)).size : 0;
    const spans = size > 0 ? planRanges(size, workers, MIN_RANGE_BYTES) : [];
    const header = spans.length > 1 ? await headerOf(input_.name) : undefined;
    if (header === undefined) {
      tasks.push({ file });
      continue;
    }
    rangesOf.set(file, new Array(spans.length).fill(undefined));
    for (const [i, span] of spans.entries()) tasks.push({ file, span, header: i === 0 ? undefined : header });
  }

  // Workers (no more than there are tasks: a thread that only starts up takes a core from the
  // catalog reading) get their first files while the catalog is read: they read ahead and count
  // the rows once the index comes.
  const pool = Array.from({ length: Math.min(workers, tasks.length) }, () => new Worker(WORKER));
  try {
    const start: WorkerStart = {
      options: {
        maxBadRowShare: options.maxBadRowShare,
        maxRowBytes: options.maxRowBytes,
        maxIssues: options.maxIssues,
      },
    };
    for (const worker of pool) worker.postMessage(start);
    const catalogLoading = (async () => {
      const { catalog, reports } = await loadCatalog(input, options);
      for (const report of reports) options.onFile?.(report);
      const index = new CatalogIndex(catalog);
      return { catalog, reports, index, total: new CompactKpis(index) };
    })();
    // Awaited below; marked handled now so a worker failing first cannot leave it unobserved.
    catalogLoading.catch(() => {});
    // Set once the catalog is read; workers report a scanned file only after that.
    let loaded: Awaited<typeof catalogLoading> | undefined;

    const streamsReports: FileReport[] = new Array(input.streams.length);
    const fallback = new Set<number>();
    const general: Promise<void>[] = [];
    const finish = (file: number, report: FileReport) => {
      streamsReports[file] = report;
      options.onFile?.(report);
    };
    const readGenerally = (file: number) => {
      if (fallback.has(file)) return;
      fallback.add(file);
      const source = input.streams[file]!;
      const reading = (async () => {
        const { catalog, total } = await catalogLoading;
        const { report, partial } = await computeStreamsPartial(
          await source.open(),
          source.name,
          catalog,
          options,
        );
        if (report.accepted) total.mergeState(partial.toState());
        finish(file, report);
      })();
      // Awaited below; marked handled now so a failure elsewhere first cannot leave it unobserved.
      reading.catch(() => {});
      general.push(reading);
    };
    const rangeDone = (task: Task, result: RangeResult) => {
      const ranges = rangesOf.get(task.file)!;
      const at = tasks.filter((t) => t.file === task.file).indexOf(task);
      ranges[at] = result;
      if (ranges.some((r) => r === undefined) || fallback.has(task.file)) return;
      const name = input.streams[task.file]!.name;
      try {
        const merged = mergeRanges(name, loaded!.index, ranges as RangeResult[], options);
        if (merged.report.accepted) loaded!.total.merge(merged.compact);
        finish(task.file, merged.report);
      } catch (err) {
        if (!(err instanceof FastPathUnsupported)) throw err;
        readGenerally(task.file);
      }
    };

    let next = 0;
    const dispatching = Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= tasks.length) return resolve();
              const id = next++;
              const task = tasks[id]!;
              const file = input.streams[task.file]!;
              const range = task.span === undefined ? undefined : { span: task.span, header: task.header };
              worker.postMessage({ id, path: file.name, name: file.name, range } satisfies WorkerTask);
            };
            worker.on("error", reject);
            worker.on("message", (reply: WorkerReply) => {
              const task = tasks[reply.id]!;
              const name = input.streams[task.file]!.name;
              try {
                if (reply.kind === "error") throw new Error(`${name}: ${reply.message}`);
                if (reply.kind === "unsupported") readGenerally(task.file);
                else if (reply.range === undefined) {
                  if (reply.partial !== undefined) loaded!.total.mergeTransfer(reply.partial);
                  finish(task.file, reply.report);
                } else if (!fallback.has(task.file)) {
                  const compact = new CompactKpis(loaded!.index);
                  if (reply.partial !== undefined) compact.mergeTransfer(reply.partial);
                  rangeDone(task, { report: reply.report, compact, ...reply.range });
                }
              } catch (err) {
                return reject(err);
              }
              send();
            });
            send();
          }),
      ),
    );
    dispatching.catch(() => {});
    loaded = await catalogLoading;
    const shared: WorkerIndex = { index: loaded.index.toShared() };
    for (const worker of pool) worker.postMessage(shared);
    await dispatching;
    await Promise.all(general);
    return { kpis: loaded.total.finalize(), files: [...loaded.reports, ...streamsReports] };
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
