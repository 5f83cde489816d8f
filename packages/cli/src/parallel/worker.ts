// A worker thread of `musicpipe kpis`: scans streams files, or byte ranges of them, with the
// fast row source over the catalog index the main thread shared, and sends back reports and
// partials (their arrays transferred, not copied).
import { createReadStream } from "node:fs";
import { parentPort } from "node:worker_threads";
import {
  CatalogIndex,
  FastPathUnsupported,
  rangeReadStart,
  type ScanOptions,
  scanStreamsFast,
  scanStreamsRange,
  transferList,
} from "@musicpipe/core";
import type { WorkerReply, WorkerSetup, WorkerTask } from "./protocol.js";

// The first message is the setup (the main thread starts workers before the catalog is read,
// so their start-up overlaps it); every later one is a task.
let index: CatalogIndex | undefined;
let options: ScanOptions = {};

async function run(task: WorkerTask): Promise<{ reply: WorkerReply; transfer: ArrayBuffer[] }> {
  const range = task.range;
  if (range === undefined) {
    const bytes = createReadStream(task.path, { highWaterMark: 1 << 20 });
    const { report, compact } = await scanStreamsFast(bytes, task.name, index!, options);
    const partial = report.accepted ? compact.toTransfer() : undefined;
    return {
      reply: { id: task.id, kind: "done", report, partial },
      transfer: partial === undefined ? [] : transferList(partial),
    };
  }
  const bytes = createReadStream(task.path, { highWaterMark: 1 << 20, start: rangeReadStart(range.span) });
  const result = await scanStreamsRange(bytes, task.name, index!, range.span, range.header, options);
  bytes.destroy();
  const partial = result.compact.toTransfer();
  return {
    reply: {
      id: task.id,
      kind: "done",
      report: result.report,
      partial,
      range: { lines: result.lines, seen: result.seen, seenFractions: result.seenFractions },
    },
    transfer: [...transferList(partial), result.seen.buffer as ArrayBuffer],
  };
}

parentPort!.on("message", async (message: WorkerSetup | WorkerTask) => {
  if ("index" in message) {
    index = CatalogIndex.fromShared(message.index);
    options = message.options;
    return;
  }
  try {
    const { reply, transfer } = await run(message);
    parentPort!.postMessage(reply, transfer);
  } catch (err) {
    parentPort!.postMessage(
      err instanceof FastPathUnsupported
        ? { id: message.id, kind: "unsupported" }
        : { id: message.id, kind: "error", message: err instanceof Error ? err.message : String(err) },
    );
  }
});
