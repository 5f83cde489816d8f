import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  archiveStage,
  type Clock,
  ConfigurationError,
  createPipelineContext,
  DEFAULT_LAYOUT,
  type FailureNotice,
  finishListenDate,
  isInputKey,
  type KeyLayout,
  type KpiOptions,
  type LogFields,
  type Logger,
  loadDayShard,
  loadListenDate,
  loadStage,
  type Metrics,
  MusicpipeError,
  type Notifier,
  type ObjectStore,
  type PipelineContext,
  type StageName,
  type StageResult,
  transformStage,
  validateStage,
} from "@musicpipe/core";
import { resolveTableNames, type TableNames } from "../dynamodb/options.js";
import { createDynamoDbTables, type DynamoDbTables } from "../dynamodb/tables.js";
import { createEmfMetrics } from "../metrics/emf.js";
import { createS3ObjectStore } from "../s3/object-store.js";
import { serviceFromEnv } from "../service-name.js";
import { invocationLogger, type LambdaContextLike, lambdaContextOf, requestIdOf } from "./context.js";
import { createJsonLogger } from "./logger.js";
import { sayNodeSupportOnce } from "./node-support.js";

/** The stages a stage Lambda runs, in pipeline order. */
export const STAGE_NAMES: readonly StageName[] = ["validate", "transform", "load", "archive"];

const STAGES: Readonly<Record<StageName, (ctx: PipelineContext, key: string) => Promise<StageResult>>> = {
  validate: validateStage,
  transform: transformStage,
  load: loadStage,
  archive: archiveStage,
};

/** The event of a stage Lambda for one file: which stage to run on which object. */
export interface FileStageEvent {
  readonly stage: StageName;
  readonly bucket: string;
  /** The S3 object key, decoded (as the trigger Lambda passes it in the DAG conf). */
  readonly key: string;
  /** The orchestrator's run id, for logs and notices. */
  readonly runId?: string | undefined;
}

/**
 * The event of a stage Lambda that loads one listen date: merges the stored partials of the
 * date into its state and writes its KPIs ({@link loadListenDate}). The fan-out DAG sends one
 * per date touched by its files, then `load` per file only records that the file's dates are
 * loaded. With `shard`, only that listener shard is loaded ({@link loadDayShard}): a fan-out
 * over `{ listenDate, shard }` for every shard, then one `finish_date`.
 */
export interface DateLoadEvent {
  readonly stage: "load_date";
  readonly bucket: string;
  /** `YYYY-MM-DD`. */
  readonly listenDate: string;
  /** A listener shard, from 0: load only it. */
  readonly shard?: number | undefined;
  readonly runId?: string | undefined;
}

/**
 * The event that finishes a date loaded shard by shard: writes its KPIs once every shard
 * includes the same partials, and deletes the merged partials ({@link finishListenDate}).
 */
export interface DateFinishEvent {
  readonly stage: "finish_date";
  readonly bucket: string;
  readonly listenDate: string;
  readonly runId?: string | undefined;
}

/** A stage event, as {@link parseStageEvent} reads it. */
export type StageEvent = FileStageEvent | DateLoadEvent | DateFinishEvent;

/** The same events with the bucket (and key) in an Airflow `dag_run.conf`-shaped `conf`. */
export interface AirflowStageEvent {
  readonly stage: StageName | "load_date" | "finish_date";
  readonly conf: { readonly bucket: string; readonly key?: string; readonly etag?: string | undefined };
  readonly listenDate?: string | undefined;
  readonly shard?: number | undefined;
  readonly runId?: string | undefined;
  /** Accepted as a synonym of `runId` (Airflow's spelling). */
  readonly run_id?: string | undefined;
}

/** What a `load_date` invocation returns: small and JSON-serialisable, like a {@link StageResult}. */
export interface DateLoadResult {
  readonly stage: "load_date";
  readonly status: "SUCCESS";
  readonly listenDate: string;
  /** The listener shard loaded, for a shard load. */
  readonly shard?: number | undefined;
  /** The date's listener shards. */
  readonly shards?: number | undefined;
  /** `false` when the stored KPIs already covered every partial of the date (not for a shard load). */
  readonly written: boolean;
  /** Partials (distinct file contents) the date (or shard) includes. */
  readonly sources: number;
  /** Partials merged by this invocation. */
  readonly absorbed: number;
}

/** What a `finish_date` invocation returns. */
export interface DateFinishResult {
  readonly stage: "finish_date";
  /** `PENDING`: the shards do not agree yet (a load of one is still under way); retry. */
  readonly status: "SUCCESS" | "PENDING";
  readonly listenDate: string;
  readonly written: boolean;
  readonly sources: number;
  /** Stored partials deleted (merged into every shard). */
  readonly deleted: number;
}

/** What a stage Lambda returns. */
export type StageHandlerResult = StageResult | DateLoadResult | DateFinishResult;

/** A stage Lambda handler: returns a JSON-serialisable result, throws to be retried. */
export type StageHandler = (event: unknown, context?: LambdaContextLike) => Promise<StageHandlerResult>;

/** The event of a stage Lambda is malformed or names an object this handler must not touch. */
export class StageEventError extends MusicpipeError {
  constructor(message: string) {
    super("invalid_event", message);
  }
}

/** Options of {@link createStageHandler}. */
export interface StageHandlerOptions {
  /**
   * The S3 client of every bucket's object store.
   * @default one `new S3Client({})` per container, from the standard configuration
   */
  readonly s3Client?: S3Client | undefined;
  /**
   * The DynamoDB client of the tables.
   * @default `new DynamoDBClient({})`, from the standard configuration
   */
  readonly dynamoDbClient?: DynamoDBClient | undefined;
  /** Table names by role; missing roles keep their default. @default DEFAULT_TABLE_NAMES */
  readonly tableNames?: Partial<TableNames> | undefined;
  /**
   * Key prefix of the pipeline inside each bucket. Event keys are full S3 keys: they must
   * start with it, and the stages see them without it.
   * @default ""
   */
  readonly prefix?: string | undefined;
  /** Key prefix of the KPI partial blobs (inside `prefix`). @default "data/partials/" */
  readonly partialPrefix?: string | undefined;
  /**
   * Listener shards of each new listen date (see `PipelineConfig.listenerShards`).
   * @default 1
   */
  readonly listenerShards?: number | undefined;
  /** Where each kind of object lives. @default DEFAULT_LAYOUT */
  readonly layout?: KeyLayout | undefined;
  /** Validation options: bad-row threshold, row size limit, schemas. */
  readonly validation?: KpiOptions | undefined;
  /** Told about rejected files and about failed invocations (for example an SNS notifier). */
  readonly notifier?: Notifier | undefined;
  /**
   * Where the stages' metrics go; flushed at the end of every invocation. Your own Powertools
   * `Metrics` through `fromPowertoolsMetrics` (`@musicpipe/aws/metrics`), for example.
   * @default `createEmfMetrics({ service })` (namespace `POWERTOOLS_METRICS_NAMESPACE` or
   * `Musicpipe`, service dimension `POWERTOOLS_SERVICE_NAME` or `musicpipe-stages`, EMF on
   * standard output)
   */
  readonly metrics?: Metrics | undefined;
  /**
   * Where the logs go; each invocation logs with `stage`, `fileKey` (or `listenDate`),
   * `bucket` and `runId` fields. A `LambdaContextLogger` (`createJsonLogger`,
   * `fromPowertoolsLogger`) is given each invocation's Lambda context, so its lines carry
   * `cold_start`, `function_name`, `function_request_id`, ...; any other `Logger` gets the
   * request id as a `requestId` field.
   * @default `createJsonLogger({ service })` (Powertools-shaped JSON lines on standard output,
   * service `POWERTOOLS_SERVICE_NAME` or `musicpipe-stages`)
   */
  readonly logger?: Logger | undefined;
  /** @default the system clock */
  readonly clock?: Clock | undefined;
  /**
   * The buckets events may name; an event naming another is refused (`invalid_event`).
   * @default any bucket (the function's IAM policy decides)
   */
  readonly allowedBuckets?: readonly string[] | undefined;
}

const WHERE = "createStageHandler";

function checkOptions(options: StageHandlerOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(`${WHERE}: options must be an object`);
  }
  const hasMethods = (value: unknown, methods: readonly string[]) =>
    typeof value === "object" &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function");
  const check = (name: keyof StageHandlerOptions, methods: readonly string[], what: string) => {
    if (options[name] !== undefined && !hasMethods(options[name], methods)) {
      throw new ConfigurationError(`${WHERE}: '${name}' must be ${what}`);
    }
  };
  check("s3Client", ["send"], "an S3Client");
  check("dynamoDbClient", ["send"], "a DynamoDBClient");
  check("notifier", ["notify"], "a Notifier (with notify)");
  check("metrics", ["count", "durationMs"], "Metrics (with count and durationMs)");
  check("logger", ["debug", "info", "warn", "error"], "a Logger");
  check("clock", ["now"], "a Clock (with now)");
  resolveTableNames(WHERE, options.tableNames);
  if (
    options.prefix !== undefined &&
    (typeof options.prefix !== "string" || options.prefix.startsWith("/"))
  ) {
    throw new ConfigurationError(`${WHERE}: 'prefix' must be a key prefix without a leading '/'`);
  }
  if (
    options.allowedBuckets !== undefined &&
    (!Array.isArray(options.allowedBuckets) ||
      options.allowedBuckets.length === 0 ||
      options.allowedBuckets.some((b) => typeof b !== "string" || b.length === 0))
  ) {
    throw new ConfigurationError(`${WHERE}: 'allowedBuckets' must be a non-empty array of bucket names`);
  }
}

function stringField(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new StageEventError(
      `stage event: '${name}' must be a non-empty string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

const LISTEN_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDate(value: string): boolean {
  const m = LISTEN_DATE.exec(value);
  if (m === null) return false;
  // setUTCFullYear: Date.UTC would read years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number(m[1]) >= 1 && date.toISOString().slice(0, 10) === value;
}

/**
 * Reads a stage event: `{ stage, bucket, key, runId? }` for one file (`stage` one of
 * {@link STAGE_NAMES}), `{ stage: "load_date", bucket, listenDate, shard?, runId? }` for one
 * listen date (or one listener shard of it), `{ stage: "finish_date", bucket, listenDate }`,
 * or either with `bucket` (and `key`) in an Airflow-style `conf` object; `run_id` is accepted
 * for `runId`. A JSON string of any of them is accepted too. Anything else is a
 * {@link StageEventError}.
 */
export function parseStageEvent(event: unknown): StageEvent {
  let value = event;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw new StageEventError("stage event: a string event must be JSON");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StageEventError("stage event: expected an object { stage, bucket, key, runId? }");
  }
  const e = value as Record<string, unknown>;
  const stage = e.stage;
  if (
    stage !== "load_date" &&
    stage !== "finish_date" &&
    (typeof stage !== "string" || !(STAGE_NAMES as readonly string[]).includes(stage))
  ) {
    throw new StageEventError(
      `stage event: 'stage' must be one of ${[...STAGE_NAMES, "load_date", "finish_date"].join(", ")}, got ${JSON.stringify(stage)}`,
    );
  }
  const source =
    e.conf !== undefined && e.bucket === undefined && e.key === undefined
      ? (e.conf as Record<string, unknown> | null)
      : e;
  if (typeof source !== "object" || source === null) {
    throw new StageEventError("stage event: 'conf' must be an object { bucket, key }");
  }
  const runId = e.runId ?? e.run_id;
  if (runId !== undefined && runId !== null && typeof runId !== "string") {
    throw new StageEventError("stage event: 'runId' must be a string");
  }
  const bucket = stringField(source.bucket, "bucket");
  const run = typeof runId === "string" && runId.length > 0 ? { runId } : {};
  if (stage === "load_date" || stage === "finish_date") {
    const listenDate = e.listenDate ?? source.listenDate;
    if (typeof listenDate !== "string" || !isCalendarDate(listenDate)) {
      throw new StageEventError(
        `stage event: 'listenDate' must be a date YYYY-MM-DD, got ${JSON.stringify(listenDate)}`,
      );
    }
    if (stage === "finish_date") return { stage, bucket, listenDate, ...run };
    const shard = e.shard ?? source.shard;
    if (shard !== undefined && (typeof shard !== "number" || !Number.isInteger(shard) || shard < 0)) {
      throw new StageEventError(
        `stage event: 'shard' must be a whole number from 0, got ${JSON.stringify(shard)}`,
      );
    }
    return { stage, bucket, listenDate, ...(shard === undefined ? {} : { shard }), ...run };
  }
  return { stage: stage as StageName, bucket, key: stringField(source.key, "key"), ...run };
}

/** `logger` with `fields` on every line (its own `child` when it has one). */
function withFields(logger: Logger, fields: LogFields): Logger {
  const child = (logger as { child?: unknown }).child;
  if (typeof child === "function") return child.call(logger, fields) as Logger;
  return {
    debug: (m, f) => logger.debug(m, { ...fields, ...f }),
    info: (m, f) => logger.info(m, { ...fields, ...f }),
    warn: (m, f) => logger.warn(m, { ...fields, ...f }),
    error: (m, f) => logger.error(m, { ...fields, ...f }),
  };
}

/** A notifier that logs its own failures instead of failing the stage it reports on. */
function safeNotifier(notifier: Notifier, logger: Logger): Notifier {
  return {
    async notify(notice: FailureNotice) {
      try {
        await notifier.notify(notice);
      } catch (error) {
        logger.error("failure notice could not be sent", { notice: { ...notice }, error });
      }
    },
  };
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.length > 0) return code;
  if (error instanceof Error && error.name !== "Error") return error.name;
  return "error";
}

/**
 * A Lambda handler that runs one pipeline stage (`validate`, `transform`, `load` or
 * `archive`) on one streams file, for an orchestrator such as the Airflow DAG in
 * `examples/airflow/`:
 *
 * - event `{ stage, bucket, key, runId? }` or `{ stage, conf: { bucket, key }, runId? }`
 *   ({@link parseStageEvent}); the key must be a `.csv` / `.csv.gz` key under the layout's
 *   streams prefix (after `prefix`), otherwise the event is refused (`invalid_event`);
 * - event `{ stage: "load_date", bucket, listenDate, runId? }`: merges the stored partials of
 *   one listen date into its state and writes its KPIs, returning a {@link DateLoadResult} (for
 *   fan-out DAGs, which load each touched date once and then run `load` per file to record
 *   it); with `shard`, loads only that listener shard, and `{ stage: "finish_date", bucket,
 *   listenDate }` then writes the date's KPIs ({@link DateFinishResult}: `PENDING` while a
 *   shard's load is still under way);
 * - returns the stage's {@link StageResult}: small and JSON-serialisable (Airflow XCom). A
 *   rejected file is a *result* (`validate` returns `FAILED`, later stages `SKIPPED`), not an
 *   error, and the notifier hears about it once, from the validate stage;
 * - throws when the stage fails (a store failing, a stage run out of order): the orchestrator
 *   retries, and every stage is idempotent. Before throwing, the notifier (if any) gets a
 *   notice with the stage, the error code and message and the run id; a notifier failure is
 *   logged, never thrown over the stage's outcome;
 * - flushes the metrics at the end of every invocation, success or not, and counts
 *   `StageErrors` (dimension `stage`) for failed ones.
 *
 * Adapters (S3 object store, DynamoDB tables) are built lazily, once per container and bucket.
 * The pipeline context is new for every invocation, so each invocation reads the current
 * song and user catalogs and logs with its own run id.
 *
 * Options are checked at construction ({@link ConfigurationError}).
 *
 * @example
 * import { createStageHandler } from "@musicpipe/aws/lambda";
 * import { createSnsNotifier } from "@musicpipe/aws/sns";
 *
 * export const handler = createStageHandler({
 *   notifier: createSnsNotifier({ topicArn: process.env.TOPIC_ARN! }),
 * });
 * // handler({ stage: "validate", bucket: "my-bucket", key: "data/raw/streams/s1.csv", runId: "r1" })
 * //   -> { fileKey: "data/raw/streams/s1.csv", stage: "validate", status: "SUCCESS", rowCounts: {...}, ... }
 */
export function createStageHandler(options: StageHandlerOptions = {}): StageHandler {
  checkOptions(options);
  const prefix = options.prefix ?? "";
  const layout = options.layout ?? DEFAULT_LAYOUT;
  const logger = options.logger ?? createJsonLogger({ service: serviceFromEnv("musicpipe-stages") });
  // Before the first client: the SDK's own notice would be nine lines of plain text in the log.
  sayNodeSupportOnce((line) => logger.warn(line));
  const metrics = options.metrics ?? createEmfMetrics({ service: serviceFromEnv("musicpipe-stages") });
  const allowed = options.allowedBuckets === undefined ? undefined : new Set(options.allowedBuckets);
  const adapters = new Map<string, { objects: ObjectStore; tables: DynamoDbTables }>();

  function adaptersOf(bucket: string) {
    let built = adapters.get(bucket);
    if (built === undefined) {
      const objects = createS3ObjectStore({
        bucket,
        ...(options.s3Client === undefined ? {} : { client: options.s3Client }),
        prefix,
      });
      const tables = createDynamoDbTables({
        partialObjects: objects,
        ...(options.dynamoDbClient === undefined ? {} : { client: options.dynamoDbClient }),
        ...(options.tableNames === undefined ? {} : { tableNames: options.tableNames }),
        ...(options.partialPrefix === undefined ? {} : { partialPrefix: options.partialPrefix }),
      });
      built = { objects, tables };
      adapters.set(bucket, built);
    }
    return built;
  }

  function checkBucket(bucket: string): void {
    if (allowed !== undefined && !allowed.has(bucket)) {
      throw new StageEventError(`stage event: bucket '${bucket}' is not one this function serves`);
    }
  }

  function storeKey(event: FileStageEvent): string {
    if (!event.key.startsWith(prefix)) {
      throw new StageEventError(`stage event: key '${event.key}' is outside the pipeline prefix '${prefix}'`);
    }
    const key = event.key.slice(prefix.length);
    if (!isInputKey(key, layout.streams)) {
      throw new StageEventError(
        `stage event: key '${event.key}' is not a .csv or .csv.gz streams file under '${prefix}${layout.streams}'`,
      );
    }
    return key;
  }

  async function flush(log: Logger) {
    try {
      await metrics.flush?.();
    } catch (error) {
      log.warn("metrics could not be flushed", { error });
    }
  }

  return async (event, context) => {
    // The Lambda context goes to a logger that takes it (cold_start, function_request_id, ...);
    // any other logger gets the request id as a field.
    const { log: invocation, contextual } = invocationLogger(logger, context);
    const requestId = contextual ? undefined : requestIdOf(lambdaContextOf(context));
    let parsed: StageEvent;
    /** The file key, or for a date load the date's KPI prefix: what logs and notices are about. */
    let subject: string;
    try {
      parsed = parseStageEvent(event);
      checkBucket(parsed.bucket);
      subject =
        parsed.stage === "load_date" || parsed.stage === "finish_date"
          ? `${layout.kpis}${parsed.listenDate.replaceAll("-", "/")}/`
          : storeKey(parsed);
    } catch (error) {
      invocation.error("invalid stage event", { requestId, code: errorCode(error), error });
      await flush(invocation);
      throw error;
    }
    const { stage, bucket, runId } = parsed;
    const log = withFields(invocation, {
      stage,
      ...(parsed.stage === "load_date" || parsed.stage === "finish_date"
        ? { listenDate: parsed.listenDate }
        : { fileKey: subject }),
      bucket,
      runId,
      requestId,
    });
    const notifier = options.notifier === undefined ? undefined : safeNotifier(options.notifier, log);
    try {
      const { objects, tables } = adaptersOf(bucket);
      const ctx = createPipelineContext({
        objects,
        kpis: tables.kpis,
        files: tables.files,
        partials: tables.partials,
        days: tables.days,
        listenerShards: options.listenerShards,
        layout,
        logger: log,
        metrics,
        notifier,
        runId,
        clock: options.clock,
        validation: options.validation,
      });
      log.debug("stage started");
      let result: StageHandlerResult;
      if (parsed.stage === "load_date" && parsed.shard !== undefined) {
        const started = ctx.clock.now().getTime();
        const load = await loadDayShard(ctx, parsed.listenDate, parsed.shard);
        metrics.durationMs("StageDuration", ctx.clock.now().getTime() - started, { stage });
        result = {
          stage: "load_date",
          status: "SUCCESS",
          listenDate: parsed.listenDate,
          shard: load.shard,
          shards: load.shards,
          written: false,
          sources: load.summary?.sourceCount ?? 0,
          absorbed: load.absorbed,
        };
        log.info("stage finished", { status: result.status, shard: load.shard, absorbed: load.absorbed });
      } else if (parsed.stage === "load_date") {
        const started = ctx.clock.now().getTime();
        const load = await loadListenDate(ctx, parsed.listenDate);
        metrics.durationMs("StageDuration", ctx.clock.now().getTime() - started, { stage });
        metrics.count("DatesLoaded", 1, { written: String(load.written) });
        result = { stage: "load_date", status: "SUCCESS", ...load };
        log.info("stage finished", { status: result.status, written: load.written, sources: load.sources });
      } else if (parsed.stage === "finish_date") {
        const started = ctx.clock.now().getTime();
        const done = await finishListenDate(ctx, parsed.listenDate);
        metrics.durationMs("StageDuration", ctx.clock.now().getTime() - started, { stage });
        result = {
          stage: "finish_date",
          status: done.consistent ? "SUCCESS" : "PENDING",
          listenDate: parsed.listenDate,
          written: done.written,
          sources: done.sources,
          deleted: done.deleted,
        };
        log.info("stage finished", { status: result.status, written: done.written, deleted: done.deleted });
      } else {
        result = await STAGES[parsed.stage](ctx, subject);
        log.info("stage finished", {
          status: result.status,
          ...(result.movedTo === undefined ? {} : { movedTo: result.movedTo }),
        });
      }
      return result;
    } catch (error) {
      const code = errorCode(error);
      const message = error instanceof Error ? error.message : String(error);
      log.error("stage failed", { code, error });
      metrics.count("StageErrors", 1, { stage });
      await notifier?.notify({ fileKey: subject, stage, code, message, runId });
      throw error;
    } finally {
      await flush(log);
    }
  };
}
