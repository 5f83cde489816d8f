// A worker thread of `musicpipe kpis`: scans streams files, or byte ranges of them, with the
// fast row source over the catalog index the main thread shares, and sends back reports and
// partials (their arrays transferred, not copied). Files given before the index arrives are
// read ahead and counted when it comes.
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
import type { WorkerIndex, WorkerReply, WorkerStart, WorkerTask } from "./protocol.js";

// The first message is the options; the index comes once the main thread has read the
// catalog; every other message is a task.
let options: ScanOptions = {};
let index: CatalogIndex | undefined;
let arrived: (index: CatalogIndex) => void = () => {};
const indexReady = new Promise<CatalogIndex>((resolve) => {
  arrived = resolve;
});

async function run(task: WorkerTask): Promise<{ reply: WorkerReply; transfer: ArrayBuffer[] }> {
  const range = task.range;
  if (range === undefined) {
    const bytes = createReadStream(task.path, { highWaterMark: 1 << 20 });
    const { report, compact } = await scanStreamsFast(bytes, task.name, index ?? indexReady, options);
    const partial = report.accepted ? compact.toTransfer() : undefined;
    return {
      reply: { id: task.id, kind: "done", report, partial },
      transfer: partial === undefined ? [] : transferList(partial),
    };
  }
  const bytes = createReadStream(task.path, { highWaterMark: 1 << 20, start: rangeReadStart(range.span) });
  const result = await scanStreamsRange(
    bytes,
    task.name,
    index ?? (await indexReady),
    range.span,
    range.header,
    options,
  );
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

parentPort!.on("message", async (message: WorkerStart | WorkerIndex | WorkerTask) => {
  if ("options" in message) {
    options = message.options;
    return;
  }
  if ("index" in message) {
    index = CatalogIndex.fromShared(message.index);
    arrived(index);
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
