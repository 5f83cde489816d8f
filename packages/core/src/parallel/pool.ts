import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import type { ByteSource } from "../csv/index.js";
import type { CatalogIndex } from "../fast/catalog-index.js";
import { type CatalogScan, scanCatalogFast } from "../fast/catalog-scan.js";
import { TrackTable, UserTable } from "../fast/catalog-tables.js";
import type { ByteSpan } from "../fast/ranges.js";
import { FastPathUnsupported, type StreamsHeader } from "../fast/scan.js";
import { encodeTrackSection, encodeUserSection } from "../state/catalog-blob.js";
import type { ScanOptions } from "../validate/index.js";
import type {
  CatalogFileOptions,
  FromWorker,
  PartialEncoding,
  StreamsScanned,
  ToWorker,
} from "./protocol.js";
import { takeWorker, workersAvailable } from "./spare.js";

export type { StreamsScanned } from "./protocol.js";

/** Chunks of a task's bytes sent to a worker and not yet taken by it, at most. */
const IN_FLIGHT = 4;

type Task = {
  readonly message: Extract<ToWorker, { type: "catalog" | "streams" }>;
  readonly source: () => ByteSource | Promise<ByteSource>;
  readonly settle: (reply: FromWorker | Error) => void;
};

interface Slot {
  readonly worker: Worker;
  task: Task | undefined;
  /** Chunks sent and not acknowledged. */
  inFlight: number;
  wake: (() => void) | undefined;
  /** Set when the task's reply came: the pump stops. */
  done: boolean;
}

/** A chunk to send: its own buffer when it has one to itself (moved, not copied), else a copy. */
function movable(chunk: Uint8Array): Uint8Array {
  const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
  return whole && !(chunk.buffer instanceof SharedArrayBuffer) ? chunk : chunk.slice();
}

/**
 * Worker threads that read catalog files and scan streams files with the fast row source. The
 * pool reads each task's bytes itself (from any byte source: a local file, an S3 body) and
 * sends them on in chunks, a few at a time; the workers send back tables and partials as
 * transferred arrays. Tasks wait in order for a free worker.
 */
export class KpiWorkerPool {
  readonly #slots: Slot[];
  readonly #queue: Task[] = [];
  #next = 1;
  #closed = false;

  private constructor(workers: Worker[], options: ScanOptions) {
    this.#slots = workers.map((worker) => {
      const slot: Slot = { worker, task: undefined, inFlight: 0, wake: undefined, done: false };
      slot.worker.postMessage({
        type: "setup",
        options: {
          maxBadRowShare: options.maxBadRowShare,
          maxRowBytes: options.maxRowBytes,
          maxIssues: options.maxIssues,
          gzip: options.gzip,
        },
      } satisfies ToWorker);
      slot.worker.on("message", (reply: FromWorker) => this.#onReply(slot, reply));
      slot.worker.on("error", (err) => this.#onCrash(slot, err));
      return slot;
    });
  }

  /**
   * A pool of `threads` workers, or `undefined` when fewer than two are asked for or workers
   * cannot start here (running from the TypeScript sources, or bundled without the worker
   * script): callers then compute in their own thread.
   */
  static async start(threads: number, options: ScanOptions = {}): Promise<KpiWorkerPool | undefined> {
    if (threads < 2 || !workersAvailable()) return undefined;
    const workers: Worker[] = [];
    const ready = await Promise.all(
      Array.from({ length: threads }, async () => {
        try {
          const { worker, ready } = takeWorker();
          workers.push(worker);
          return await ready;
        } catch {
          return false;
        }
      }),
    );
    if (ready.every(Boolean)) return new KpiWorkerPool(workers, options);
    await Promise.all(workers.map((w) => w.terminate()));
    return undefined;
  }

  /** One thread per core. */
  static defaultThreads(): number {
    return availableParallelism();
  }

  /**
   * Threads for the pipeline stages (`PipelineConfig.threads`) that start on the first task
   * given to them, so a run that gives none (small files only) starts none; where workers
   * cannot start, tasks run in the calling thread. `close()` stops them.
   */
  static lazy(threads: number, options: ScanOptions = {}): LazyWorkerPool {
    return new LazyWorkerPool(threads, options);
  }

  get threads(): number {
    return this.#slots.length;
  }

  /**
   * Gives the workers the catalog index (streams scans waiting for it go on), and with
   * `partials` what they need to send partials encoded (see `streamsFile`'s `encode`).
   */
  shareIndex(index: CatalogIndex, partials?: PartialEncoding): void {
    const shared = index.toShared();
    for (const slot of this.#slots)
      slot.worker.postMessage({ type: "index", index: shared, partials } satisfies ToWorker);
  }

  /**
   * Reads a songs or users file in a worker; `undefined` when the general reader must. With
   * `indexed`, the worker also builds the ids' lookup table (else it is built where first used);
   * with `encode`, it also encodes the table as its part of a compiled catalog.
   */
  catalogFile(
    name: string,
    kind: "songs" | "users",
    open: () => ByteSource | Promise<ByteSource>,
    options: CatalogFileOptions = {},
  ): Promise<CatalogScan | undefined> {
    const { indexed = false, encode = false, size } = options;
    return new Promise((resolve, reject) => {
      this.#submit(
        { type: "catalog", id: this.#next++, kind, name, indexed, encode, size },
        open,
        (reply) => {
          if (reply instanceof Error) return reject(reply);
          if (reply.type === "unsupported") return resolve(undefined);
          if (reply.type !== "catalog") return reject(new Error(`${name}: unexpected reply '${reply.type}'`));
          resolve({
            report: reply.report,
            ...(reply.tracks === undefined ? {} : { tracks: TrackTable.fromTransfer(reply.tracks) }),
            ...(reply.users === undefined ? {} : { users: UserTable.fromTransfer(reply.users) }),
            section: reply.section,
            sectionDigest: reply.sectionDigest,
          });
        },
      );
    });
  }

  /**
   * Scans a streams file (or a byte range of it: `open` then gives the bytes from
   * `rangeReadStart(span)` on) in a worker; `undefined` when the general reader must.
   */
  streamsFile(
    name: string,
    open: () => ByteSource | Promise<ByteSource>,
    options: {
      readonly range?: { readonly span: ByteSpan; readonly header: StreamsHeader | undefined } | undefined;
      readonly hash?: boolean | undefined;
      /** Send the partial as blobs per date (the index was shared with its encoding). */
      readonly encode?: boolean | undefined;
    } = {},
  ): Promise<StreamsScanned | undefined> {
    return new Promise((resolve, reject) => {
      const message: ToWorker = {
        type: "streams",
        id: this.#next++,
        name,
        range: options.range,
        hash: options.hash ?? false,
        encode: options.encode ?? false,
      };
      this.#submit(message, open, (reply) => {
        if (reply instanceof Error) return reject(reply);
        if (reply.type === "unsupported") return resolve(undefined);
        if (reply.type !== "streams") return reject(new Error(`${name}: unexpected reply '${reply.type}'`));
        resolve(reply);
      });
    });
  }

  /** Stops the workers (tasks still queued or running fail). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = new Error("the worker pool was closed");
    for (const task of this.#queue.splice(0)) task.settle(closing);
    for (const slot of this.#slots) {
      const task = slot.task;
      slot.task = undefined;
      task?.settle(closing);
    }
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  #submit(
    message: Extract<ToWorker, { type: "catalog" | "streams" }>,
    source: () => ByteSource | Promise<ByteSource>,
    settle: (reply: FromWorker | Error) => void,
  ): void {
    if (this.#closed) {
      settle(new Error("the worker pool was closed"));
      return;
    }
    this.#queue.push({ message, source, settle });
    this.#dispatch();
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.task !== undefined) continue;
      const task = this.#queue.shift();
      if (task === undefined) return;
      slot.task = task;
      slot.inFlight = 0;
      slot.done = false;
      slot.worker.postMessage(task.message);
      void this.#pump(slot, task);
    }
  }

  /** Sends the task's bytes to its worker, at most {@link IN_FLIGHT} chunks ahead of it. */
  async #pump(slot: Slot, task: Task): Promise<void> {
    const id = task.message.id;
    const worker = slot.worker;
    let iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array> | undefined;
    try {
      const source = await task.source();
      iterator =
        Symbol.asyncIterator in source
          ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
          : (source as Iterable<Uint8Array>)[Symbol.iterator]();
      for (;;) {
        if (slot.done || slot.task !== task) return;
        const next = await iterator.next();
        if (next.done) break;
        if (slot.done || slot.task !== task) return;
        const bytes = movable(next.value);
        worker.postMessage({ type: "chunk", id, bytes } satisfies ToWorker, [bytes.buffer as ArrayBuffer]);
        slot.inFlight++;
        while (slot.inFlight >= IN_FLIGHT && !slot.done && slot.task === task) {
          await new Promise<void>((resolve) => {
            slot.wake = resolve;
          });
        }
      }
      iterator = undefined;
      if (slot.task === task && !slot.done) worker.postMessage({ type: "end", id } satisfies ToWorker);
    } catch (err) {
      if (slot.task === task && !slot.done)
        worker.postMessage({
          type: "abort",
          id,
          message: err instanceof Error ? err.message : String(err),
        } satisfies ToWorker);
    } finally {
      // The worker stopped early (a range read to its end, a file handed to the general reader).
      await iterator?.return?.();
    }
  }

  #onReply(slot: Slot, reply: FromWorker): void {
    const task = slot.task;
    if (task === undefined || reply.id !== task.message.id) return;
    if (reply.type === "ack") {
      slot.inFlight--;
      slot.wake?.();
      return;
    }
    slot.done = true;
    slot.task = undefined;
    slot.wake?.();
    task.settle(reply.type === "error" ? new Error(`${task.message.name}: ${reply.message}`) : reply);
    this.#dispatch();
  }

  #onCrash(slot: Slot, err: Error): void {
    const task = slot.task;
    slot.task = undefined;
    slot.done = true;
    slot.wake?.();
    task?.settle(err);
  }
}

/** {@link KpiWorkerPool.lazy}: a pool started on its first task. */
export class LazyWorkerPool {
  /** The number of workers the pool starts. */
  readonly threads: number;
  readonly #options: ScanOptions;
  #pool: Promise<KpiWorkerPool | undefined> | undefined;
  #index: { index: CatalogIndex; partials: PartialEncoding | undefined } | undefined;

  constructor(threads: number, options: ScanOptions) {
    this.threads = threads;
    this.#options = options;
  }

  #started(): Promise<KpiWorkerPool | undefined> {
    this.#pool ??= KpiWorkerPool.start(this.threads, this.#options).then((pool) => {
      if (pool !== undefined && this.#index !== undefined)
        pool.shareIndex(this.#index.index, this.#index.partials);
      return pool;
    });
    return this.#pool;
  }

  /** {@link KpiWorkerPool.catalogFile}, starting the pool first (or reading here without one). */
  async catalogFile(
    name: string,
    kind: "songs" | "users",
    open: () => ByteSource | Promise<ByteSource>,
    options: CatalogFileOptions = {},
  ): Promise<CatalogScan | undefined> {
    const pool = await this.#started();
    if (pool !== undefined) return pool.catalogFile(name, kind, open, options);
    try {
      const scan = await scanCatalogFast(
        await open(),
        name,
        kind,
        this.#options,
        options.indexed,
        options.size,
      );
      if (options.encode !== true || !scan.report.accepted) return scan;
      const section =
        scan.tracks !== undefined
          ? encodeTrackSection(scan.tracks.genres, scan.tracks.genre, scan.tracks)
          : encodeUserSection(scan.users!);
      return { ...scan, section };
    } catch (err) {
      if (err instanceof FastPathUnsupported) return undefined;
      throw err;
    }
  }

  /** {@link KpiWorkerPool.streamsFile}, starting the pool first (or scanning here without one). */
  async streamsFile(
    name: string,
    open: () => ByteSource | Promise<ByteSource>,
    options: { readonly hash?: boolean | undefined; readonly encode?: boolean | undefined } = {},
  ): Promise<StreamsScanned | undefined> {
    const pool = await this.#started();
    // Without workers the caller reads the file itself (undefined: not done here).
    return pool?.streamsFile(name, open, options);
  }

  /** {@link KpiWorkerPool.shareIndex}, now or when the pool starts. */
  shareIndex(index: CatalogIndex, partials?: PartialEncoding): void {
    this.#index = { index, partials };
    void this.#pool?.then((pool) => pool?.shareIndex(index, partials));
  }

  /** Starts the workers now (a run that will give them work), instead of on the first task. */
  warm(): void {
    void this.#started();
  }

  /** Whether the workers were started (or are starting). */
  get warmed(): boolean {
    return this.#pool !== undefined;
  }

  /** Stops the workers, if they were started. */
  async close(): Promise<void> {
    const pool = await this.#pool;
    await pool?.close();
  }
}
