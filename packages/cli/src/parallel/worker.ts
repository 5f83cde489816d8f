// A worker thread of `musicpipe kpis`: scans whole streams files with the fast row source over
// the catalog index the main thread shared, and sends back each file's report and partial.
import { createReadStream } from "node:fs";
import { parentPort } from "node:worker_threads";
import {
  CatalogIndex,
  FastPathUnsupported,
  type ScanOptions,
  scanStreamsFast,
  transferList,
} from "@musicpipe/core";
import type { WorkerReply, WorkerSetup, WorkerTask } from "./protocol.js";

// The first message is the setup (the main thread starts workers before the catalog is read,
// so their start-up overlaps it); every later one is a file.
let index: CatalogIndex | undefined;
let options: ScanOptions = {};

parentPort!.on("message", async (message: WorkerSetup | WorkerTask) => {
  if ("index" in message) {
    index = CatalogIndex.fromShared(message.index);
    options = message.options;
    return;
  }
  const task = message;
  let reply: WorkerReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const { report, compact } = await scanStreamsFast(
      createReadStream(task.path, { highWaterMark: 1 << 20 }),
      task.name,
      index!,
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
