import { createHash } from "node:crypto";
import type { KpiAccumulator } from "../kpi/accumulator.js";
import { type Catalog, type InputFile, loadCatalog } from "../kpi/catalog.js";
import type { KpiOptions } from "../kpi/compute.js";
import { DEFAULT_LAYOUT, isInputKey, type KeyLayout } from "../layout/index.js";
import type { ObjectStore } from "../ports/object-store.js";
import {
  type Clock,
  type Logger,
  type Metrics,
  type Notifier,
  noMetrics,
  silentLogger,
  systemClock,
} from "../ports/observability.js";
import type { FileStatusStore, KpiStore, PartialStore } from "../ports/tables.js";
import type { FileReport } from "../validate/index.js";

/** The adapters and settings every stage runs with. */
export interface PipelineConfig {
  readonly objects: ObjectStore;
  readonly kpis: KpiStore;
  readonly files: FileStatusStore;
  readonly partials: PartialStore;
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

/**
 * A pipeline context: the configuration plus per-context caches (the catalog, read once; the
 * partial computed by validation, reused by transform in the same process).
 */
export interface PipelineContext {
  readonly objects: ObjectStore;
  readonly kpis: KpiStore;
  readonly files: FileStatusStore;
  readonly partials: PartialStore;
  readonly layout: KeyLayout;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly notifier: Notifier | undefined;
  readonly runId: string | undefined;
  readonly validation: KpiOptions;
  /** The song and user catalogs, loaded on first use. */
  catalog(): Promise<{ catalog: Catalog; reports: readonly FileReport[] }>;
  /** Partials computed during validation, by `<key>@<etag>`. */
  readonly computed: Map<string, KpiAccumulator>;
}

/**
 * Builds a {@link PipelineContext}. Keep one per run: the catalog is read once per context.
 *
 * @example
 * const ctx = createPipelineContext({ objects, kpis, files, partials });
 * await runPending(ctx);
 */
export function createPipelineContext(config: PipelineConfig): PipelineContext {
  const layout = config.layout ?? DEFAULT_LAYOUT;
  let catalog: Promise<{ catalog: Catalog; reports: FileReport[] }> | undefined;
  const ctx: PipelineContext = {
    objects: config.objects,
    kpis: config.kpis,
    files: config.files,
    partials: config.partials,
    layout,
    clock: config.clock ?? systemClock,
    logger: config.logger ?? silentLogger,
    metrics: config.metrics ?? noMetrics,
    notifier: config.notifier,
    runId: config.runId,
    validation: config.validation ?? {},
    computed: new Map(),
    catalog: () => {
      catalog ??= (async () => {
        const songs = await inputFilesUnder(ctx.objects, layout.songs);
        const users = await inputFilesUnder(ctx.objects, layout.users);
        return loadCatalog({ songs, users }, ctx.validation);
      })();
      // A failed read is not cached: the next call tries again.
      catalog.catch(() => {
        catalog = undefined;
      });
      return catalog;
    },
  };
  return ctx;
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
  bytes: AsyncIterable<Uint8Array>;
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
): { open: () => AsyncIterable<Uint8Array>; digest: () => string } {
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
