// A worker thread of `musicpipe kpis`: scans whole streams files with the fast row source over
// the catalog index the main thread shared, and sends back each file's report and partial.
import { createReadStream } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import {
  CatalogIndex,
  FastPathUnsupported,
  type ScanOptions,
  scanStreamsFast,
  transferList,
} from "@musicpipe/core";
import type { WorkerReply, WorkerTask } from "./protocol.js";

const index = CatalogIndex.fromShared(workerData.index);
const options: ScanOptions = workerData.options;

parentPort!.on("message", async (task: WorkerTask) => {
  let reply: WorkerReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const { report, compact } = await scanStreamsFast(
      createReadStream(task.path, { highWaterMark: 1 << 20 }),
      task.name,
      index,
      options,
    );
    const partial = report.accepted ? compact.toTransfer() : undefined;
    if (partial !== undefined) transfer = transferList(partial);
    reply = { id: task.id, kind: "done", report, partial };
  } catch (err) {
    reply =
      err instanceof FastPathUnsupported
        ? { id: task.id, kind: "unsupported" }
        : { id: task.id, kind: "error", message: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply, transfer);
});
