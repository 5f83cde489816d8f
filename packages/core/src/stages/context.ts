import { createHash } from "node:crypto";
import type { ByteSource } from "../csv/index.js";
import { BlobFormatError, ConfigurationError, ObjectNotFoundError } from "../errors/index.js";
import type { CatalogIndex } from "../fast/catalog-index.js";
import type { CatalogScan } from "../fast/catalog-scan.js";
import { type Catalog, catalogTables, type InputFile, loadCatalog, loadCatalogWith } from "../kpi/catalog.js";
import { indexOf, type KpiOptions } from "../kpi/compute.js";
import { DEFAULT_LAYOUT, isInputKey, type KeyLayout } from "../layout/index.js";
import type { CatalogFileOptions, PartialEncoding, StreamsScanned } from "../parallel/protocol.js";
import type { ByteRange, ObjectStore } from "../ports/object-store.js";
import {
  type Clock,
  type Logger,
  type Metrics,
  type Notifier,
  noMetrics,
  silentLogger,
  systemClock,
} from "../ports/observability.js";
import type { DayStateStore, FileStatusStore, KpiStore, PartialStore } from "../ports/tables.js";
import {
  assembleCatalog,
  type CompiledCatalog,
  decodeCatalog,
  encodeCatalog,
} from "../state/catalog-blob.js";
import { MAX_SHARDS } from "../state/shards.js";
import type { FileReport } from "../validate/index.js";

/**
 * Threads that read catalog files and scan streams files with the fast row source: a
 * `KpiWorkerPool` from `@musicpipe/core/parallel`. The stages read objects themselves and hand
 * the bytes over; without threads they scan in the calling thread.
 */
export interface ScanThreads {
  /**
   * Reads a songs or users file in a thread: its tables (`indexed`) or its compiled section
   * (`encode`), sized for the file when its `size` is given; `undefined` when the general
   * reader must read it.
   */
  catalogFile(
    name: string,
    kind: "songs" | "users",
    open: () => ByteSource | Promise<ByteSource>,
    options?: CatalogFileOptions,
  ): Promise<CatalogScan | undefined>;
  /**
   * Scans a streams file in a thread into its partial (`encode`: encoded for storage; `hash`:
   * with the SHA-256 of its bytes); `undefined` when the general reader must read it.
   */
  streamsFile(
    name: string,
    open: () => ByteSource | Promise<ByteSource>,
    options?: { readonly hash?: boolean | undefined; readonly encode?: boolean | undefined },
  ): Promise<StreamsScanned | undefined>;
  /** Gives the threads the catalog index, and what encoding partials needs. */
  shareIndex(index: CatalogIndex, partials?: PartialEncoding): void;
  /** Starts the threads now: work is coming (optional). */
  warm?(): void;
  /** Whether they were started (then small catalogs are read on them too). */
  readonly warmed?: boolean | undefined;
}

/** The adapters and settings every stage runs with. */
export interface PipelineConfig {
  readonly objects: ObjectStore;
  readonly kpis: KpiStore;
  readonly files: FileStatusStore;
  readonly partials: PartialStore;
  /** Pointers to the day states. */
  readonly days: DayStateStore;
  /**
   * Where day states and compiled catalogs are stored, under the layout's `state` prefix.
   * @default objects
   */
  readonly stateObjects?: ObjectStore | undefined;
  /**
   * Listener shards of a listen date's state (its distinct listeners are split by a hash of
   * `user_id`, so each shard can be loaded on its own, e.g. by parallel Lambda invocations). A
   * date keeps the count it was first stored with.
   * @default 1
   */
  readonly listenerShards?: number | undefined;
  /** Threads for reading catalog and streams files (see {@link ScanThreads}). */
  readonly threads?: ScanThreads | undefined;
  /** @default DEFAULT_LAYOUT */
  readonly layout?: KeyLayout | undefined;
  /** @default the system clock */
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
  readonly metrics?: Metrics | undefined;
  /** Told about every rejected file and failed stage. */
  readonly notifier?: Notifier | undefined;
  /** Validation options: bad-row threshold, row size limit, custom schemas. */
  readonly validation?: KpiOptions | undefined;
  /** Identifies the orchestrator's run in logs and notices. */
  readonly runId?: string | undefined;
}

/** A file's partials as validation computed them: blobs per listen date, against `catalog` with `shards` shards. */
export interface ComputedPartials {
  readonly catalog: string;
  readonly shards: number;
  readonly blobs: ReadonlyMap<string, Uint8Array>;
}

/** The song and user catalogs as the stages use them. */
export interface LoadedCatalog {
  readonly catalog: Catalog;
  readonly reports: readonly FileReport[];
  /** The compiled form: partials refer to its track and user numbers by its digest. */
  readonly compiled: CompiledCatalog;
  /**
   * Settles once the compiled form is stored (just compiled, it is written while the stages go
   * on): await it before storing anything that refers to the digest.
   */
  readonly stored: Promise<void>;
}

/**
 * A pipeline context: the configuration plus per-context caches (the catalog, read once; the
 * partial computed by validation, reused by transform in the same process).
 */
export interface PipelineContext {
  readonly objects: ObjectStore;
  readonly kpis: KpiStore;
  readonly files: FileStatusStore;
  readonly partials: PartialStore;
  readonly days: DayStateStore;
  readonly stateObjects: ObjectStore;
  readonly listenerShards: number;
  readonly threads: ScanThreads | undefined;
  readonly layout: KeyLayout;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly notifier: Notifier | undefined;
  readonly runId: string | undefined;
  readonly validation: KpiOptions;
  /** The song and user catalogs, loaded (from their compiled form when stored) on first use. */
  catalog(): Promise<LoadedCatalog>;
  /** A compiled catalog by its digest: the current one, or one stored earlier. */
  compiledCatalog(digest: string): Promise<CompiledCatalog>;
  /** Partials computed during validation (blobs per date), by `<key>@<etag>`. */
  readonly computed: Map<string, ComputedPartials>;
}

/** Where compiled catalogs are stored under the state prefix. */
export function catalogKey(layout: KeyLayout, digest: string): string {
  return `${layout.state}catalogs/${digest}.mpc`;
}

/** The key of the note naming the compiled catalog of a set of catalog files. */
function catalogInputsKey(layout: KeyLayout, inputs: string): string {
  return `${layout.state}catalogs/inputs/${inputs}`;
}

/** An object's bytes (or a byte range of them), whole. */
async function readAll(objects: ObjectStore, key: string, range?: ByteRange): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of objects.get(key, range === undefined ? undefined : { range })) {
    chunks.push(chunk);
    length += chunk.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The compiled catalogs kept in memory besides the current one. */
const KEPT_CATALOGS = 2;

/**
 * Builds a {@link PipelineContext}. Keep one per run: the catalog is read once per context.
 *
 * The catalog is compiled once per set of catalog files (keyed by their keys and etags and the
 * validation options) and stored under `<state>catalogs/`; later contexts read the compiled
 * form instead of the CSV files.
 *
 * @example
 * const ctx = createPipelineContext({ objects, kpis, files, partials, days });
 * await runPending(ctx);
 */
export function createPipelineContext(config: PipelineConfig): PipelineContext {
  const layout = config.layout ?? DEFAULT_LAYOUT;
  const shards = config.listenerShards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)
    throw new ConfigurationError(
      `listenerShards must be a whole number from 1 to ${MAX_SHARDS}, got ${shards}`,
    );
  let loading: Promise<LoadedCatalog> | undefined;
  const others = new Map<string, CompiledCatalog>();
  const ctx: PipelineContext = {
    objects: config.objects,
    kpis: config.kpis,
    files: config.files,
    partials: config.partials,
    days: config.days,
    stateObjects: config.stateObjects ?? config.objects,
    listenerShards: shards,
    threads: config.threads,
    layout,
    clock: config.clock ?? systemClock,
    logger: config.logger ?? silentLogger,
    metrics: config.metrics ?? noMetrics,
    notifier: config.notifier,
    runId: config.runId,
    validation: config.validation ?? {},
    computed: new Map(),
    catalog: () => {
      loading ??= loadCompiled(ctx);
      // A failed read is not cached: the next call tries again.
      loading.catch(() => {
        loading = undefined;
      });
      return loading;
    },
    compiledCatalog: async (digest) => {
      const current = await ctx.catalog();
      if (current.compiled.digest === digest) return current.compiled;
      let found = others.get(digest);
      if (found === undefined) {
        const key = catalogKey(layout, digest);
        found = decodeCatalog(await readAll(ctx.stateObjects, key), key);
        if (found.digest !== digest)
          throw new BlobFormatError("catalog", `${key}: holds catalog ${found.digest}, not ${digest}`);
        if (others.size >= KEPT_CATALOGS) others.delete(others.keys().next().value!);
        others.set(digest, found);
      }
      return found;
    },
  };
  return ctx;
}

/** The catalog files under the songs and users prefixes, with what identifies their content. */
async function catalogInputs(ctx: PipelineContext) {
  const listed = async (prefix: string) => {
    const files: { file: InputFile; etag: string; size: number }[] = [];
    for await (const info of ctx.objects.list(prefix)) {
      if (!isInputKey(info.key, prefix)) continue;
      files.push({
        file: { name: info.key, size: info.size, open: () => ctx.objects.get(info.key) },
        etag: info.etag,
        size: info.size,
      });
    }
    return files;
  };
  const songs = await listed(ctx.layout.songs);
  const users = await listed(ctx.layout.users);
  const v = ctx.validation;
  // Custom schemas cannot be named by a digest: such catalogs are compiled every time.
  const custom = v.schemas?.songs !== undefined || v.schemas?.users !== undefined;
  const inputs = custom
    ? undefined
    : createHash("sha256")
        .update(
          JSON.stringify({
            songs: songs.map((f) => [f.file.name, f.etag, f.size]),
            users: users.map((f) => [f.file.name, f.etag, f.size]),
            maxBadRowShare: v.maxBadRowShare ?? null,
            maxRowBytes: v.maxRowBytes ?? null,
            maxIssues: v.maxIssues ?? null,
            gzip: v.gzip ?? null,
            fastPath: v.fastPath ?? null,
          }),
        )
        .digest("hex");
  const bytes = [...songs, ...users].reduce((sum, f) => sum + f.size, 0);
  return { songs: songs.map((f) => f.file), users: users.map((f) => f.file), inputs, bytes };
}

/** Catalogs smaller than this are read in the calling thread: starting threads would cost more. */
const THREAD_CATALOG_BYTES = 32 * 1024 * 1024;

/** The stored compiled catalog of the current catalog files, or compiles (and stores) it. */
async function loadCompiled(ctx: PipelineContext): Promise<LoadedCatalog> {
  const { songs, users, inputs, bytes: catalogBytes } = await catalogInputs(ctx);
  const state = ctx.stateObjects;
  let compiled: CompiledCatalog | undefined;
  /** A stored blob that could not be read (damaged, or of another version): written anew. */
  let unreadable: string | undefined;
  if (inputs !== undefined) {
    let key: string | undefined;
    try {
      const digest = new TextDecoder()
        .decode(await readAll(state, catalogInputsKey(ctx.layout, inputs)))
        .trim();
      key = catalogKey(ctx.layout, digest);
      compiled = decodeCatalog(await readAll(state, key), key);
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError || err instanceof BlobFormatError)) throw err;
      if (err instanceof BlobFormatError) unreadable = key;
      if (err instanceof BlobFormatError)
        ctx.logger.warn("stored compiled catalog unreadable; compiling again", { code: err.code });
    }
  }
  if (compiled === undefined) {
    const threads =
      catalogBytes >= THREAD_CATALOG_BYTES || ctx.threads?.warmed === true ? ctx.threads : undefined;
    // Threads also encode their table as its part of the compiled catalog, used when that
    // table alone makes the catalog's tracks (or users).
    const scans: CatalogScan[] = [];
    const { catalog, reports } =
      threads === undefined
        ? await loadCatalog({ songs, users }, ctx.validation)
        : await loadCatalogWith({ songs, users }, ctx.validation, async (file, kind) => {
            const scan = await threads.catalogFile(file.name, kind, () => file.open(), {
              encode: true,
              size: file.size,
            });
            if (scan !== undefined) scans.push(scan);
            return scan;
          });
    const index = indexOf(catalog);
    const tables = catalogTables.get(catalog)!;
    const trackScan = scans.find((s) => s.tracks !== undefined && s.tracks === tables.tracks);
    const userScan = scans.find((s) => s.users !== undefined && s.users === tables.users);
    const { bytes, digest } =
      trackScan?.section !== undefined && userScan?.section !== undefined
        ? assembleCatalog(
            trackScan.section,
            userScan.section,
            { tracks: index.trackCount, users: index.userCount, genres: index.genres.length },
            reports,
            trackScan.sectionDigest !== undefined && userScan.sectionDigest !== undefined
              ? { tracks: trackScan.sectionDigest, users: userScan.sectionDigest }
              : undefined,
          )
        : encodeCatalog(index, reports);
    const key = catalogKey(ctx.layout, digest);
    const stored = (async () => {
      // Content-addressed: an existing blob of this digest holds these bytes already, unless
      // it is the one that could not be read.
      if (key === unreadable || (await state.head(key)) === undefined)
        await state.put(key, bytes, { contentType: "application/octet-stream" });
      if (inputs !== undefined)
        await state.put(catalogInputsKey(ctx.layout, inputs), digest, { contentType: "text/plain" });
    })();
    // Awaited by whatever refers to the digest; marked handled so a failure is not unobserved first.
    stored.catch(() => {});
    ctx.logger.info("catalog compiled", { runId: ctx.runId, digest, bytes: bytes.length });
    return { catalog, reports, compiled: { digest, catalog, index, reports }, stored };
  }
  return { catalog: compiled.catalog, reports: compiled.reports, compiled, stored: Promise.resolve() };
}

/** Every `.csv` / `.csv.gz` object under a prefix, as input files read from the store. */
export async function inputFilesUnder(objects: ObjectStore, prefix: string): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for await (const info of objects.list(prefix)) {
    if (isInputKey(info.key, prefix)) files.push({ name: info.key, open: () => objects.get(info.key) });
  }
  return files;
}

/** Passes bytes through while hashing them; `digest()` gives the hex SHA-256 once they are read. */
export function hashingSource(source: AsyncIterable<Uint8Array>): {
  /** The bytes of `source`, hashed as they pass. */
  bytes: AsyncIterable<Uint8Array>;
  /** The hex SHA-256 of the bytes; throws before they were read to the end. */
  digest: () => string;
} {
  const hash = createHash("sha256");
  let done = false;
  return {
    bytes: (async function* () {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
      done = true;
    })(),
    digest: () => {
      if (!done) throw new Error("hashingSource: digest() before the bytes were read to the end");
      return hash.digest("hex");
    },
  };
}

/**
 * Reads of one object, each hashed: `open()` starts a new read (a reader may read twice, when
 * the fast row source hands a file over to the general reader), `digest()` is the SHA-256 of
 * the last read, once it was read to the end.
 */
export function hashedReads(
  objects: ObjectStore,
  key: string,
): {
  /** Starts a new read of the object. */
  open: () => AsyncIterable<Uint8Array>;
  /** The hex SHA-256 of the last read, once it was read to the end. */
  digest: () => string;
} {
  let last: ReturnType<typeof hashingSource> | undefined;
  return {
    open: () => {
      last = hashingSource(objects.get(key));
      return last.bytes;
    },
    digest: () => {
      if (last === undefined) throw new Error(`hashedReads: '${key}' was not read`);
      return last.digest();
    },
  };
}

export { readAll };
