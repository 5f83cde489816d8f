import { createJsonLogger, logLevelFrom, type StageHandlerOptions } from "@musicpipe/aws/lambda";
import { createEmfMetrics } from "@musicpipe/aws/metrics";
import { createSnsNotifier } from "@musicpipe/aws/sns";
import { ConfigurationError, MAX_SHARDS } from "@musicpipe/core";

/** Environment variables naming a table, by table role. */
export const TABLE_VARIABLES = {
  kpis: "MUSICPIPE_KPIS_TABLE",
  topSongs: "MUSICPIPE_TOP_SONGS_TABLE",
  topGenres: "MUSICPIPE_TOP_GENRES_TABLE",
  files: "MUSICPIPE_FILES_TABLE",
  partials: "MUSICPIPE_PARTIALS_TABLE",
  dayStates: "MUSICPIPE_DAY_STATES_TABLE",
} as const;

type Env = Readonly<Record<string, string | undefined>>;

const set = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
};

/**
 * The stage handler's options from the Lambda's environment. Every variable is optional:
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | `MUSICPIPE_SNS_TOPIC_ARN` | SNS topic told about rejected files and failed stages | no notices |
 * | `MUSICPIPE_KPIS_TABLE`, `_TOP_SONGS_TABLE`, `_TOP_GENRES_TABLE`, `_FILES_TABLE`, `_PARTIALS_TABLE`, `_DAY_STATES_TABLE` | table names | `DEFAULT_TABLE_NAMES` of `@musicpipe/aws/dynamodb` |
 * | `MUSICPIPE_METRICS_NAMESPACE` | CloudWatch namespace of the EMF metrics | `Musicpipe` |
 * | `MUSICPIPE_S3_PREFIX` | key prefix of the pipeline in the bucket | none |
 * | `MUSICPIPE_ALLOWED_BUCKETS` | comma-separated buckets events may name | any |
 * | `MUSICPIPE_MAX_BAD_ROW_SHARE` | share of bad rows (0-1) above which a file is rejected | 0.1 |
 * | `MUSICPIPE_LISTENER_SHARDS` | listener shards of each new listen date's state (1 to `MAX_SHARDS`) | 1 |
 * | `MUSICPIPE_LOG_LEVEL`, else `AWS_LAMBDA_LOG_LEVEL` | `debug`, `info`, `warn`, `error` | `info` |
 *
 * A malformed value throws {@link ConfigurationError} at cold start, before any event.
 */
export function stageOptionsFromEnv(env: Env): StageHandlerOptions {
  const tableNames: Record<string, string> = {};
  for (const [role, variable] of Object.entries(TABLE_VARIABLES)) {
    const name = set(env, variable);
    if (name !== undefined) tableNames[role] = name;
  }
  const topicArn = set(env, "MUSICPIPE_SNS_TOPIC_ARN");
  const namespace = set(env, "MUSICPIPE_METRICS_NAMESPACE");
  const prefix = set(env, "MUSICPIPE_S3_PREFIX");
  const buckets = set(env, "MUSICPIPE_ALLOWED_BUCKETS");
  const share = set(env, "MUSICPIPE_MAX_BAD_ROW_SHARE");
  let maxBadRowShare: number | undefined;
  if (share !== undefined) {
    maxBadRowShare = Number(share);
    if (!Number.isFinite(maxBadRowShare) || maxBadRowShare < 0 || maxBadRowShare > 1) {
      throw new ConfigurationError(
        `MUSICPIPE_MAX_BAD_ROW_SHARE must be a number from 0 to 1, got '${share}'`,
      );
    }
  }
  const shards = set(env, "MUSICPIPE_LISTENER_SHARDS");
  let listenerShards: number | undefined;
  if (shards !== undefined) {
    listenerShards = Number(shards);
    if (!/^\d+$/.test(shards) || listenerShards < 1 || listenerShards > MAX_SHARDS) {
      throw new ConfigurationError(
        `MUSICPIPE_LISTENER_SHARDS must be a whole number from 1 to ${MAX_SHARDS}, got '${shards}'`,
      );
    }
  }
  // Logs in Powertools for AWS Lambda's shape: the handler adds function_name, cold_start and
  // the request id of each invocation from its Lambda context.
  return {
    tableNames,
    logger: createJsonLogger({
      service: "musicpipe-stages",
      level: logLevelFrom(set(env, "MUSICPIPE_LOG_LEVEL") ?? set(env, "AWS_LAMBDA_LOG_LEVEL")),
    }),
    metrics: createEmfMetrics({
      service: "musicpipe-stages",
      ...(namespace === undefined ? {} : { namespace }),
    }),
    ...(topicArn === undefined ? {} : { notifier: createSnsNotifier({ topicArn }) }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(buckets === undefined
      ? {}
      : {
          allowedBuckets: buckets
            .split(",")
            .map((b) => b.trim())
            .filter((b) => b !== ""),
        }),
    ...(maxBadRowShare === undefined ? {} : { validation: { maxBadRowShare } }),
    ...(listenerShards === undefined ? {} : { listenerShards }),
  };
}
