import { createHash } from "node:crypto";
import {
  ConfigurationError,
  type DagTrigger,
  DEFAULT_LAYOUT,
  isInputKey,
  type Logger,
  MusicpipeError,
} from "@musicpipe/core";
import { serviceFromEnv } from "../service-name.js";
import { invocationLogger } from "./context.js";
import { createJsonLogger } from "./logger.js";
import { sayNodeSupportOnce } from "./node-support.js";

/** The DAG id of the Airflow DAG in examples/airflow, which the examples deploy. */
export const DEFAULT_DAG_ID = "music_streaming_pipeline";

/** One record of an S3 event notification, as much of it as the trigger reads. */
export interface S3EventRecordLike {
  /** `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`, ... */
  readonly eventName?: string | undefined;
  readonly s3?:
    | {
        readonly bucket?: { readonly name?: string | undefined } | undefined;
        readonly object?:
          | {
              /** URL-encoded as in a form: `+` for a space, `%XX` for other bytes. */
              readonly key?: string | undefined;
              readonly eTag?: string | undefined;
              readonly sequencer?: string | undefined;
              readonly size?: number | undefined;
            }
          | undefined;
      }
    | undefined;
}

/** An S3 event notification (what Lambda receives from an S3 trigger). */
export interface S3TriggerEvent {
  readonly Records?: readonly S3EventRecordLike[] | undefined;
}

/** Options of {@link createS3TriggerHandler}. */
export interface S3TriggerHandlerOptions {
  /** Starts the DAG runs: one of the `@musicpipe/aws/airflow` adapters, or your own. */
  readonly trigger: DagTrigger;
  /**
   * The DAG to run for each new streams file.
   * @default "music_streaming_pipeline"
   */
  readonly dagId?: string | undefined;
  /**
   * Only keys under this prefix are triggered (a `/` is added when missing).
   * @default "data/raw/streams/"
   */
  readonly streamsPrefix?: string | undefined;
  /**
   * Where the handler logs, one line per record: file key and run id, never user names. A
   * `LambdaContextLogger` (`createJsonLogger`, `fromPowertoolsLogger`) is given each
   * invocation's Lambda context (`cold_start`, `function_name`, `function_request_id`, ...).
   * @default `createJsonLogger({ service })`: Powertools-shaped JSON lines on stdout, service
   * `POWERTOOLS_SERVICE_NAME` or `musicpipe-trigger`
   */
  readonly logger?: Logger | undefined;
}

/** A file for which a run was asked for. */
export interface TriggeredFile {
  readonly bucket: string;
  /** The decoded key. */
  readonly key: string;
  readonly etag: string;
  readonly runId: string;
}

/** Why a record started nothing. */
export type IgnoredReason =
  /** Not an `ObjectCreated:*` event. */
  | "not_object_created"
  /** No bucket name or key in the record. */
  | "incomplete_record"
  /** The key's percent-encoding is malformed (not UTF-8, a `%` without two hex digits). */
  | "malformed_key"
  /** The key is not under the streams prefix. */
  | "outside_prefix"
  /** The key does not end in `.csv` or `.csv.gz`. */
  | "not_csv";

/** A record that started nothing. */
export interface IgnoredRecord {
  /** The decoded key, or the key as received when it cannot be decoded. */
  readonly key: string | undefined;
  readonly reason: IgnoredReason;
}

/** What one invocation did. */
export interface S3TriggerSummary {
  /** Runs created now. */
  readonly triggered: readonly TriggeredFile[];
  /** Runs that already existed: a re-delivered event, or a retry of this invocation. */
  readonly duplicates: readonly TriggeredFile[];
  readonly ignored: readonly IgnoredRecord[];
}

/** The Lambda handler made by {@link createS3TriggerHandler}. */
export type S3TriggerHandler = (event: S3TriggerEvent, context?: unknown) => Promise<S3TriggerSummary>;

/** A file whose trigger failed, in an {@link S3TriggerError}. */
export interface FailedTrigger extends TriggeredFile {
  readonly error: unknown;
}

/**
 * Triggering failed for at least one file of the event. Thrown after every record was tried,
 * so Lambda retries the event; the files already triggered are then duplicates, not new runs.
 */
export class S3TriggerError extends MusicpipeError {
  declare readonly code: "s3_trigger_failed";
  /** The files whose trigger failed, with the error of each. */
  readonly failures: readonly FailedTrigger[];

  constructor(dagId: string, failures: readonly FailedTrigger[], total: number) {
    const first = failures[0];
    const detail =
      first === undefined ? "" : `: ${first.key} (run ${first.runId}): ${messageOf(first.error)}`;
    super(
      "s3_trigger_failed",
      `triggering DAG '${dagId}' failed for ${failures.length} of ${total} file${total === 1 ? "" : "s"}${detail}`,
      { cause: first?.error, file: first?.key },
    );
    this.failures = failures;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Decodes an S3 event key: `+` is a space, then percent-decoding (UTF-8). `undefined` when the
 * encoding is malformed.
 *
 * @example
 * decodeS3EventKey("data/raw/streams/my+file%C3%A9.csv"); // "data/raw/streams/my fileé.csv"
 */
export function decodeS3EventKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}

const RUN_ID_TAIL_CHARS = 64;

/**
 * The run id of a file version: `s3__<readable tail>__<hash>`, where the hash is the first 32
 * hex digits of `sha256(bucket + "\n" + key + "\n" + etag)` and the tail is the end of the
 * key's last segment with accents dropped and anything but `A-Z a-z 0-9 _ . -` made `_`.
 * Matches `^[A-Za-z0-9_.~:+-]+$`, at most 104 characters.
 *
 * The same object version always gets the same id, so a re-delivered event asks for a run
 * that exists; a new upload of the same key has a new etag and gets a new run. (The event's
 * `sequencer` is not used: it differs between events about the same object version.)
 *
 * @example
 * s3RunId("music", "data/raw/streams/streams1.csv", "9b2cf535f27731c974343645a3985328");
 * // "s3__streams1.csv__<32 hex digits>"
 */
export function s3RunId(bucket: string, key: string, etag: string): string {
  const hash = createHash("sha256")
    .update(`${bucket}\n${key}\n${normaliseEtag(etag)}`, "utf8")
    .digest("hex")
    .slice(0, 32);
  const name = key.slice(key.lastIndexOf("/") + 1);
  const readable = name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[^A-Za-z0-9_.-]+/g, "_");
  const tail = readable.length > RUN_ID_TAIL_CHARS ? readable.slice(-RUN_ID_TAIL_CHARS) : readable;
  return `s3__${tail === "" ? "file" : tail}__${hash}`;
}

/** S3 events carry etags bare; HeadObject quotes them. Either way, the same id. */
function normaliseEtag(etag: string): string {
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}

const DAG_ID = /^[A-Za-z0-9_.-]{1,250}$/;

/**
 * An S3-event Lambda handler that starts one DAG run per new streams file. For each record:
 * decode the key (`+` is a space, then percent-decoding; a malformed key is skipped with a
 * warning), ignore events other than `ObjectCreated:*`, keys outside the streams prefix and keys
 * not ending in `.csv` / `.csv.gz`, then call `trigger.trigger(dagId, s3RunId(...), conf)` with
 * `conf = { bucket, key, etag, sequencer }` (the decoded key, verbatim: it reaches Airflow as
 * JSON, never as command-line text).
 *
 * A run id that already exists is success (logged, and listed in `duplicates`). If any
 * trigger fails, the handler tries the other records, then throws an {@link S3TriggerError}
 * so Lambda retries the event; the retry finds the runs it already started and starts only
 * the missing ones.
 *
 * @example
 * ```ts
 * import { createAirflowRestTrigger } from "@musicpipe/aws/airflow";
 * import { createS3TriggerHandler } from "@musicpipe/aws/lambda";
 *
 * export const handler = createS3TriggerHandler({
 *   trigger: createAirflowRestTrigger({ baseUrl, apiVersion: "v2", username, password }),
 * });
 * ```
 */
export function createS3TriggerHandler(options: S3TriggerHandlerOptions): S3TriggerHandler {
  const where = "createS3TriggerHandler";
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError(`${where}: options with a 'trigger' are required`);
  }
  const { trigger } = options;
  if (trigger === null || typeof trigger !== "object" || typeof trigger.trigger !== "function") {
    throw new ConfigurationError(
      `${where}: 'trigger' must be a DagTrigger (an object with a trigger method)`,
    );
  }
  const dagId = options.dagId ?? DEFAULT_DAG_ID;
  if (typeof dagId !== "string" || !DAG_ID.test(dagId)) {
    throw new ConfigurationError(`${where}: 'dagId' must match ${DAG_ID}, got '${String(dagId)}'`);
  }
  let prefix = options.streamsPrefix ?? DEFAULT_LAYOUT.streams;
  if (typeof prefix !== "string" || prefix === "" || prefix.startsWith("/")) {
    throw new ConfigurationError(
      `${where}: 'streamsPrefix' must be a relative key prefix like data/raw/streams/`,
    );
  }
  if (!prefix.endsWith("/")) prefix = `${prefix}/`;
  const logger = options.logger ?? createJsonLogger({ service: serviceFromEnv("musicpipe-trigger") });
  for (const level of ["debug", "info", "warn", "error"] as const) {
    if (typeof (logger as unknown as Record<string, unknown>)[level] !== "function") {
      throw new ConfigurationError(`${where}: 'logger' must have debug, info, warn and error methods`);
    }
  }
  sayNodeSupportOnce((line) => logger.warn(line));

  return async (event, context) => {
    const log = invocationLogger(logger, context).log;
    const records = Array.isArray(event?.Records) ? event.Records : [];
    if (records.length === 0) log.warn("event without S3 records: nothing to trigger", { dagId });
    const triggered: TriggeredFile[] = [];
    const duplicates: TriggeredFile[] = [];
    const ignored: IgnoredRecord[] = [];
    const failures: FailedTrigger[] = [];
    const ignore = (key: string | undefined, reason: IgnoredReason, level: "info" | "warn" = "info") => {
      ignored.push({ key, reason });
      log[level]("S3 record ignored", { fileKey: key, reason });
    };

    for (const record of records) {
      const eventName = record?.eventName;
      const object = record?.s3?.object;
      const bucket = record?.s3?.bucket?.name;
      const rawKey = object?.key;
      if (typeof eventName === "string" && !eventName.startsWith("ObjectCreated:")) {
        ignore(
          typeof rawKey === "string" ? (decodeS3EventKey(rawKey) ?? rawKey) : undefined,
          "not_object_created",
        );
        continue;
      }
      if (typeof bucket !== "string" || bucket === "" || typeof rawKey !== "string" || rawKey === "") {
        ignore(typeof rawKey === "string" ? rawKey : undefined, "incomplete_record", "warn");
        continue;
      }
      const key = decodeS3EventKey(rawKey);
      if (key === undefined) {
        ignore(rawKey, "malformed_key", "warn");
        continue;
      }
      if (!key.startsWith(prefix)) {
        ignore(key, "outside_prefix");
        continue;
      }
      if (!isInputKey(key, prefix)) {
        ignore(key, "not_csv");
        continue;
      }
      const sequencer = typeof object?.sequencer === "string" ? object.sequencer : null;
      let etag = typeof object?.eTag === "string" ? normaliseEtag(object.eTag) : "";
      if (etag === "") {
        // Without an etag the version is told apart by the event's sequencer.
        etag = sequencer === null ? "" : `sequencer:${sequencer}`;
        log.warn("S3 record without an eTag: the run id uses the sequencer", { fileKey: key });
      }
      const runId = s3RunId(bucket, key, etag);
      const file: TriggeredFile = { bucket, key, etag, runId };
      try {
        const { created } = await trigger.trigger(dagId, runId, { bucket, key, etag, sequencer });
        (created ? triggered : duplicates).push(file);
        log.info(created ? "DAG run triggered" : "DAG run already exists: nothing new started", {
          dagId,
          fileKey: key,
          runId,
        });
      } catch (error) {
        failures.push({ ...file, error });
        log.error("DAG trigger failed", { dagId, fileKey: key, runId, error });
      }
    }

    const total = triggered.length + duplicates.length + failures.length;
    if (failures.length > 0) throw new S3TriggerError(dagId, failures, total);
    return { triggered, duplicates, ignored };
  };
}
