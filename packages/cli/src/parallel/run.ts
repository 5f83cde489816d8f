import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  CatalogIndex,
  CompactKpis,
  computeKpis,
  computeStreamsPartial,
  type FileReport,
  type InputFile,
  type KpiOptions,
  type KpiSet,
  loadCatalog,
} from "@musicpipe/core";
import type { WorkerReply, WorkerSetup, WorkerTask } from "./protocol.js";

const WORKER = new URL("./kpis-worker.js", import.meta.url);

/** `true` when the built worker script is there (it is not when running from the sources). */
export function parallelAvailable(): boolean {
  return WORKER.protocol === "file:" && existsSync(fileURLToPath(WORKER));
}

/** The default number of worker threads: one per core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * `computeKpis` over local files with worker threads: the main thread reads the catalogs and
 * shares their index; each worker scans whole streams files with the fast row source; files
 * the fast path does not take are read by the general reader on the main thread meanwhile.
 * Results are identical to `computeKpis` (the tests compare them).
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
  const count = Math.min(workers, input.streams.length);
  if (count < 2 || !parallelAvailable() || options.schemas?.streams !== undefined)
    return computeKpis(input, options);
  // Workers start while the catalog is read; their first message is the index.
  const pool = Array.from({ length: count }, () => new Worker(WORKER));
  let loaded: Awaited<ReturnType<typeof loadCatalog>>;
  try {
    loaded = await loadCatalog(input, options);
  } catch (err) {
    await Promise.all(pool.map((w) => w.terminate()));
    throw err;
  }
  const { catalog, reports } = loaded;
  for (const report of reports) options.onFile?.(report);
  const index = new CatalogIndex(catalog);
  const total = new CompactKpis(index);
  const setup: WorkerSetup = {
    index: index.toShared(),
    options: {
      maxBadRowShare: options.maxBadRowShare,
      maxRowBytes: options.maxRowBytes,
      maxIssues: options.maxIssues,
    },
  };
  for (const worker of pool) worker.postMessage(setup);
  const streamsReports: FileReport[] = new Array(input.streams.length);
  const general: Promise<void>[] = [];
  let next = 0;
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= input.streams.length) return resolve();
              const id = next++;
              const file = input.streams[id]!;
              worker.postMessage({ id, path: file.name, name: file.name } satisfies WorkerTask);
            };
            worker.on("error", reject);
            worker.on("message", (reply: WorkerReply) => {
              const file = input.streams[reply.id]!;
              if (reply.kind === "error") return reject(new Error(`${file.name}: ${reply.message}`));
              if (reply.kind === "unsupported") {
                general.push(
                  (async () => {
                    const { report, partial } = await computeStreamsPartial(
                      await file.open(),
                      file.name,
                      catalog,
                      options,
                    );
                    if (report.accepted) total.mergeState(partial.toState());
                    streamsReports[reply.id] = report;
                    options.onFile?.(report);
                  })(),
                );
              } else {
                if (reply.partial !== undefined) total.mergeTransfer(reply.partial);
                streamsReports[reply.id] = reply.report;
                options.onFile?.(reply.report);
              }
              send();
            });
            send();
          }),
      ),
    );
    await Promise.all(general);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return { kpis: total.finalize(), files: [...reports, ...streamsReports] };
}
