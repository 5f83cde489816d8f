import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { createDynamoDbTables, ensureTables, type TableNames } from "@musicpipe/aws/dynamodb";
import { createS3ObjectStore } from "@musicpipe/aws/s3";
import { createPipelineContext, type PipelineConfig, type PipelineContext } from "@musicpipe/core";
import { type FlagSpec, type ParsedFlags, UsageError } from "./args.js";
import { localPipeline, requireRoot, withRootLock } from "./local-target.js";

/** Flags every command that works on stored state accepts. */
export const targetFlags: FlagSpec = {
  root: "string",
  target: "string",
  bucket: "string",
  prefix: "string",
  "force-path-style": "boolean",
  "kpis-table": "string",
  "top-songs-table": "string",
  "top-genres-table": "string",
  "files-table": "string",
  "partials-table": "string",
};

export const targetUsage = `Where (one of):
  --root DIR                a local folder: objects are files under DIR, tables under DIR/.musicpipe/
  --target aws --bucket B   S3 bucket B and DynamoDB, with the standard AWS SDK configuration
                            (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB,
                            AWS_REQUEST_CHECKSUM_CALCULATION, AWS_RESPONSE_CHECKSUM_VALIDATION, ...)
AWS options:
  --prefix P                key prefix inside the bucket (default: none)
  --force-path-style        path-style S3 URLs (local S3 servers)
  --kpis-table N            default MusicStreamingKPIs
  --top-songs-table N       default TopSongsByGenre
  --top-genres-table N      default TopGenresByDay
  --files-table N           default FileValidationMetadata
  --partials-table N        default MusicpipePartials`;

/** An opened target: its pipeline context and how to run work on it exclusively. */
export interface Target {
  readonly ctx: PipelineContext;
  /** Runs `work` holding the target's lock (a local folder's lock file; nothing on AWS, where writes are conditional). */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Checks that the input prefix exists (local) or the bucket is reachable (AWS). */
  check(): Promise<void>;
}

function tableNames(flags: ParsedFlags): Partial<TableNames> {
  const names: Record<string, string> = {};
  const map = {
    "kpis-table": "kpis",
    "top-songs-table": "topSongs",
    "top-genres-table": "topGenres",
    "files-table": "files",
    "partials-table": "partials",
  };
  for (const [flag, name] of Object.entries(map)) {
    const value = flags.strings.get(flag);
    if (value !== undefined) names[name] = value;
  }
  return names;
}

/** The S3 and DynamoDB clients of the AWS target, from the SDK's standard configuration. */
export function awsClients(flags: ParsedFlags): { s3: S3Client; dynamodb: DynamoDBClient } {
  const forcePathStyle =
    flags.booleans.has("force-path-style") || process.env.MUSICPIPE_S3_FORCE_PATH_STYLE === "1";
  return { s3: new S3Client(forcePathStyle ? { forcePathStyle } : {}), dynamodb: new DynamoDBClient({}) };
}

/** Opens `--root DIR` or `--target aws --bucket B`. */
export function openTarget(flags: ParsedFlags, config: Partial<PipelineConfig> = {}): Target {
  const target = flags.strings.get("target") ?? (flags.strings.has("bucket") ? "aws" : "local");
  if (target === "local") {
    const root = flags.strings.get("root");
    if (root === undefined) throw new UsageError("give --root DIR, or --target aws --bucket B");
    const ctx = localPipeline(root, config);
    return {
      ctx,
      exclusive: (work) => withRootLock(root, work),
      check: () => requireRoot(root, ctx.layout.streams),
    };
  }
  if (target !== "aws")
    throw new UsageError(`--target must be 'aws' (or omitted with --root), got '${target}'`);
  if (flags.strings.has("root")) throw new UsageError("--root and --target aws exclude each other");
  const bucket = flags.strings.get("bucket");
  if (bucket === undefined) throw new UsageError("--target aws needs --bucket B");
  const clients = awsClients(flags);
  const prefix = flags.strings.get("prefix");
  const objects = createS3ObjectStore({
    bucket,
    client: clients.s3,
    ...(prefix === undefined ? {} : { prefix }),
  });
  const tables = createDynamoDbTables({
    client: clients.dynamodb,
    tableNames: tableNames(flags),
    partialObjects: objects,
  });
  const ctx = createPipelineContext({
    objects,
    kpis: tables.kpis,
    files: tables.files,
    partials: tables.partials,
    ...config,
  });
  return {
    ctx,
    exclusive: (work) => work(),
    check: async () => {
      await clients.s3.send(new HeadBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
        throw new UsageError(
          `cannot reach bucket '${bucket}': ${err instanceof Error ? err.message || err.name : String(err)}`,
        );
      });
    },
  };
}

/** `init` for AWS: creates the tables if missing and checks the bucket. */
export async function initAws(flags: ParsedFlags): Promise<{ created: string[]; existing: string[] }> {
  const target = openTarget(flags);
  await target.check();
  return ensureTables({ client: awsClients(flags).dynamodb, tableNames: tableNames(flags) });
}
