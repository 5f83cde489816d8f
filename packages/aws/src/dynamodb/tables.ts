import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  ConfigurationError,
  type DayStateStore,
  type FileStatusStore,
  type KpiStore,
  type ObjectStore,
  type PartialStore,
} from "@musicpipe/core";
import { createDynamoDbDayStateStore } from "./day-states.js";
import { createDynamoDbFileStatusStore } from "./file-status.js";
import { createDynamoDbKpiStore } from "./kpis.js";
import {
  checkPositive,
  documentClient,
  resolveClient,
  resolveTableNames,
  type TableNames,
} from "./options.js";
import { createDynamoDbPartialStore } from "./partials.js";
import { DEFAULT_BASE_DELAY_MS, DEFAULT_MAX_DELAY_MS, type RetryOptions } from "./retry.js";

/** Options of {@link createDynamoDbTables}. */
export interface DynamoDbTablesOptions {
  /**
   * The client to use; pass yours to share its configuration and connections.
   * @default new DynamoDBClient({}) (region, credentials and `AWS_ENDPOINT_URL_DYNAMODB` from the environment)
   */
  readonly client?: DynamoDBClient | undefined;
  /**
   * Names of the tables, by role; missing roles keep their default.
   * @default DEFAULT_TABLE_NAMES
   */
  readonly tableNames?: Partial<TableNames> | undefined;
  /**
   * Where the partials' states are stored (they can exceed DynamoDB's 400 KB item limit):
   * usually the pipeline's S3 object store. Required.
   */
  readonly partialObjects: ObjectStore;
  /**
   * Key prefix of the partial blobs: `<prefix><listenDate>/<fingerprint>.mpk`.
   * @default "data/partials/"
   */
  readonly partialPrefix?: string | undefined;
  /**
   * How long one call keeps retrying throttled or conflicting requests (DynamoDB throttling,
   * `TransactionConflict`) before it fails with the last error.
   * @default 30000
   */
  readonly batchTimeBudgetMs?: number | undefined;
  /**
   * How many requests one call has in flight at once where it sends several independent ones.
   * (A KPI day write sends its transactions one after another: each holds the date's commit
   * item, and DynamoDB cancels concurrent transactions on one item.)
   * @default 8
   */
  readonly writeConcurrency?: number | undefined;
}

/** The table ports on DynamoDB, as {@link createDynamoDbTables} builds them. */
export interface DynamoDbTables {
  /** KPIs per listen date: MusicStreamingKPIs, TopSongsByGenre, TopGenresByDay. */
  readonly kpis: KpiStore;
  /** Per-file status records: FileValidationMetadata. */
  readonly files: FileStatusStore;
  /** KPI partials: blobs in `partialObjects`, indexed in MusicpipePartials. */
  readonly partials: PartialStore;
  /** Pointers to the day states (blobs in the pipeline's state object store): MusicpipeDayStates. */
  readonly days: DayStateStore;
}

const WHERE = "createDynamoDbTables";

function checkObjectStore(store: unknown): asserts store is ObjectStore {
  const methods = ["get", "put"] as const;
  if (
    typeof store !== "object" ||
    store === null ||
    methods.some((m) => typeof (store as Record<string, unknown>)[m] !== "function")
  ) {
    throw new ConfigurationError(`${WHERE}: 'partialObjects' must be an ObjectStore (with get and put)`);
  }
}

/**
 * The musicpipe table ports on DynamoDB, with the original Python pipeline's table names and
 * keys and typed attributes (numbers are DynamoDB numbers). Create the tables first with
 * {@link ensureTables}. Options are checked here, once; one document client is built for the
 * ports.
 *
 * **File status** (FileValidationMetadata, key `file_key`): one item per file with snake_case
 * attributes and a `version`; every write is a PutItem conditional on it. `list` scans the
 * whole table: O(table).
 *
 * **KPIs**: per date, one MusicStreamingKPIs item per genre (`kpi_type` = `GENRE_<genre>`), one
 * TopSongsByGenre item per genre, and the TopGenresByDay item, which is also the date's commit
 * record (`version`, `state`, `source_count`, `sources_digest`). `putDay` is safe under concurrent writers of one date:
 *
 * 1. it claims the date: UpdateItem of the commit item to the new version, `state` `"writing"`,
 *    conditional on the expected version (else `ConditionFailedError`);
 * 2. it writes the genre items, and deletes those of genres no longer in the day, in
 *    TransactWriteItems of at most 24 writes plus a ConditionCheck that the commit item still
 *    has its version: once a newer write claims the date, no write of an older one can land;
 * 3. it commits: top genres, the sources' count and digest, and `state` `"complete"`, conditional on its version.
 *
 * `getDay` reads the commit item, queries the genre items, and reads the commit item again to
 * make sure no newer write started in between. A date left `"writing"` by an interrupted write
 * reads as its version with no KPIs and no sources, so the next load rewrites it. Sets come
 * back in the order the KPI engine produces them: genre stats by genre, top songs by genre then
 * rank, top genres by rank (genres by UTF-8 bytes, which is code point order).
 *
 * **Partials**: the blob is stored in `partialObjects` at
 * `<partialPrefix><listenDate>/<fingerprint>.mpk`, then indexed in MusicpipePartials.
 *
 * **Day states**: one MusicpipeDayStates item per (listen date, listener shard), pointing at the
 * state blob; every write conditional on its `version`.
 *
 * Counts must be safe integers (below 2^53), as the KPI engine guarantees; the average is a
 * double.
 *
 * @example
 * import { createS3ObjectStore } from "@musicpipe/aws/s3";
 * import { createDynamoDbTables } from "@musicpipe/aws/dynamodb";
 *
 * const objects = createS3ObjectStore({ bucket: "my-bucket" });
 * const { kpis, files, partials, days } = createDynamoDbTables({ partialObjects: objects });
 * const day = await kpis.getDay("2025-06-22");
 */
export function createDynamoDbTables(options: DynamoDbTablesOptions): DynamoDbTables {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(`${WHERE}: options are required (at least 'partialObjects')`);
  }
  const client = resolveClient(WHERE, options.client);
  const names = resolveTableNames(WHERE, options.tableNames);
  checkObjectStore(options.partialObjects);
  const prefix = options.partialPrefix ?? "data/partials/";
  if (typeof prefix !== "string" || prefix.startsWith("/")) {
    throw new ConfigurationError(`${WHERE}: 'partialPrefix' must be a key prefix without a leading '/'`);
  }
  checkPositive(WHERE, "batchTimeBudgetMs", options.batchTimeBudgetMs, false);
  checkPositive(WHERE, "writeConcurrency", options.writeConcurrency, true);
  const budgetMs = options.batchTimeBudgetMs ?? 30_000;
  const retry = (): RetryOptions => ({
    deadline: Date.now() + budgetMs,
    baseDelayMs: DEFAULT_BASE_DELAY_MS,
    maxDelayMs: DEFAULT_MAX_DELAY_MS,
  });

  const doc = documentClient(client);
  return {
    kpis: createDynamoDbKpiStore(doc, names, retry),
    files: createDynamoDbFileStatusStore(doc, names.files, retry),
    partials: createDynamoDbPartialStore({
      doc,
      table: names.partials,
      objects: options.partialObjects,
      prefix,
      retry,
    }),
    days: createDynamoDbDayStateStore(doc, names.dayStates, retry),
  };
}
