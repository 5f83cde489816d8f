// A worker thread of the KPI worker pool: reads catalog files into tables and scans streams
// files (or byte ranges of them) with the fast row source, from bytes the pool sends, and
// sends back reports, tables and partials (their arrays transferred, not copied). Streams
// files given before the catalog index arrives are read ahead and counted when it comes.
import { createHash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { CatalogIndex } from "../fast/catalog-index.js";
import { scanCatalogFast } from "../fast/catalog-scan.js";
import { transferList } from "../fast/compact.js";
import { scanStreamsRange } from "../fast/ranges.js";
import { FastPathUnsupported, scanStreamsFast } from "../fast/scan.js";
import { encodeTrackSection, encodeUserSection, sectionDigest } from "../state/catalog-blob.js";
import { encodePartials } from "../state/partial.js";
import type { ScanOptions } from "../validate/index.js";
import type { FromWorker, PartialEncoding, ToWorker } from "./protocol.js";

const port = parentPort!;
let options: ScanOptions = {};
let index: CatalogIndex | undefined;
let encoding: PartialEncoding | undefined;
let arrived: (index: CatalogIndex) => void = () => {};
const indexReady = new Promise<CatalogIndex>((resolve) => {
  arrived = resolve;
});

/** The bytes of one task, as they come from the pool; each chunk taken is acknowledged. */
class Inbox implements AsyncIterable<Uint8Array> {
  readonly #chunks: Uint8Array[] = [];
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #id: number;

  constructor(id: number) {
    this.#id = id;
  }

  push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  fail(message: string): void {
    this.#failure = new Error(message);
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        port.postMessage({ type: "ack", id: this.#id } satisfies FromWorker);
        yield chunk;
        continue;
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

const inboxes = new Map<number, Inbox>();

/** Hashes the bytes as they pass, when asked to. */
function hashing(source: AsyncIterable<Uint8Array>, hash: boolean) {
  if (!hash) return { bytes: source, digest: () => undefined };
  const sha = createHash("sha256");
  let done = false;
  return {
    bytes: (async function* () {
      for await (const chunk of source) {
        sha.update(chunk);
        yield chunk;
      }
      done = true;
    })(),
    digest: () => (done ? sha.digest("hex") : undefined),
  };
}

async function run(task: Extract<ToWorker, { type: "catalog" | "streams" }>, inbox: Inbox) {
  if (task.type === "catalog") {
    const scan = await scanCatalogFast(inbox, task.name, task.kind, options, task.indexed, task.size);
    const section =
      !task.encode || !scan.report.accepted
        ? undefined
        : scan.tracks !== undefined
          ? encodeTrackSection(scan.tracks.genres, scan.tracks.genre, scan.tracks)
          : encodeUserSection(scan.users!);
    const tracks = scan.tracks?.toTransfer();
    const users = scan.users?.toTransfer();
    const reply: FromWorker = {
      type: "catalog",
      id: task.id,
      report: scan.report,
      tracks: tracks?.transfer,
      users: users?.transfer,
      section,
      sectionDigest: section === undefined ? undefined : sectionDigest(section),
    };
    const buffers = [...(tracks?.buffers ?? []), ...(users?.buffers ?? [])];
    if (section !== undefined) buffers.push(section.buffer as ArrayBuffer);
    return { reply, transfer: buffers };
  }
  const { bytes, digest } = hashing(inbox, task.hash);
  if (task.range === undefined) {
    const { report, compact } = await scanStreamsFast(bytes, task.name, index ?? indexReady, options);
    if (task.encode && encoding !== undefined) {
      const blobs = report.accepted
        ? [
            ...encodePartials(
              compact,
              { index: compact.index, digest: encoding.digest },
              encoding.shards,
              encoding.userShard,
            ),
          ]
        : [];
      const reply: FromWorker = {
        type: "streams",
        id: task.id,
        report,
        partial: undefined,
        blobs,
        sha256: digest(),
      };
      return { reply, transfer: blobs.map(([, blob]) => blob.buffer as ArrayBuffer) };
    }
    const partial = report.accepted ? compact.toTransfer() : undefined;
    const reply: FromWorker = { type: "streams", id: task.id, report, partial, sha256: digest() };
    return { reply, transfer: partial === undefined ? [] : transferList(partial) };
  }
  const result = await scanStreamsRange(
    bytes,
    task.name,
    index ?? (await indexReady),
    task.range.span,
    task.range.header,
    options,
  );
  const partial = result.compact.toTransfer();
  const reply: FromWorker = {
    type: "streams",
    id: task.id,
    report: result.report,
    partial,
    range: { lines: result.lines, seen: result.seen, seenFractions: result.seenFractions },
  };
  return { reply, transfer: [...transferList(partial), result.seen.buffer as ArrayBuffer] };
}

port.postMessage({ type: "ready" } satisfies FromWorker);

port.on("message", async (message: ToWorker) => {
  switch (message.type) {
    case "setup":
      options = message.options;
      return;
    case "index":
      index = CatalogIndex.fromShared(message.index);
      encoding = message.partials;
      arrived(index);
      return;
    case "chunk":
      inboxes.get(message.id)?.push(message.bytes);
      return;
    case "end":
      inboxes.get(message.id)?.end();
      return;
    case "abort":
      inboxes.get(message.id)?.fail(message.message);
      return;
  }
  const inbox = new Inbox(message.id);
  inboxes.set(message.id, inbox);
  try {
    const { reply, transfer } = await run(message, inbox);
    port.postMessage(reply, transfer);
  } catch (err) {
    port.postMessage(
      (err instanceof FastPathUnsupported
        ? { type: "unsupported", id: message.id }
        : {
            type: "error",
            id: message.id,
            message: err instanceof Error ? err.message : String(err),
          }) satisfies FromWorker,
    );
  } finally {
    inboxes.delete(message.id);
  }
});
