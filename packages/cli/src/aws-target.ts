// The AWS target of the CLI, in a module of its own: loaded (with the AWS SDK) only when a
// command is given `--target aws`.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { createDynamoDbTables, ensureTables, type TableNames } from "@musicpipe/aws/dynamodb";
import { sayNodeSupportOnce } from "@musicpipe/aws/lambda";
import { createS3ObjectStore } from "@musicpipe/aws/s3";
import { createPipelineContext, type PipelineConfig } from "@musicpipe/core";
import { type ParsedFlags, UsageError } from "./args.js";
import { writeStderr } from "./stdio.js";
import type { Target } from "./target.js";

function tableNames(flags: ParsedFlags): Partial<TableNames> {
  const names: Record<string, string> = {};
  const map = {
    "kpis-table": "kpis",
    "top-songs-table": "topSongs",
    "top-genres-table": "topGenres",
    "files-table": "files",
    "partials-table": "partials",
    "day-states-table": "dayStates",
  };
  for (const [flag, name] of Object.entries(map)) {
    const value = flags.strings.get(flag);
    if (value !== undefined) names[name] = value;
  }
  return names;
}

/** The S3 and DynamoDB clients of the AWS target, from the SDK's standard configuration. */
export function awsClients(flags: ParsedFlags): { s3: S3Client; dynamodb: DynamoDBClient } {
  sayNodeSupportOnce((line) => writeStderr(`musicpipe: ${line}\n`));
  const forcePathStyle =
    flags.booleans.has("force-path-style") || process.env.MUSICPIPE_S3_FORCE_PATH_STYLE === "1";
  return { s3: new S3Client(forcePathStyle ? { forcePathStyle } : {}), dynamodb: new DynamoDBClient({}) };
}

/** Opens `--target aws --bucket B` (the caller has checked `--target`), with `clients` if given. */
export function openAwsTarget(
  flags: ParsedFlags,
  config: Partial<PipelineConfig> = {},
  clients?: { s3: S3Client; dynamodb: DynamoDBClient },
): Target {
  if (flags.strings.has("root")) throw new UsageError("--root and --target aws exclude each other");
  const bucket = flags.strings.get("bucket");
  if (bucket === undefined) throw new UsageError("--target aws needs --bucket B");
  const { s3, dynamodb } = clients ?? awsClients(flags);
  const prefix = flags.strings.get("prefix");
  const objects = createS3ObjectStore({
    bucket,
    client: s3,
    ...(prefix === undefined ? {} : { prefix }),
  });
  const tables = createDynamoDbTables({
    client: dynamodb,
    tableNames: tableNames(flags),
    partialObjects: objects,
  });
  const ctx = createPipelineContext({ objects, ...tables, ...config });
  const reach = async () => {
    await s3.send(new HeadBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
      throw new UsageError(
        `cannot reach bucket '${bucket}': ${err instanceof Error ? err.message || err.name : String(err)}`,
      );
    });
  };
  return { ctx, exclusive: (work) => work(), check: reach, reach };
}

/** `init` for AWS: creates the tables if missing and checks the bucket. */
export async function initAws(flags: ParsedFlags): Promise<{ created: string[]; existing: string[] }> {
  const clients = awsClients(flags);
  await openAwsTarget(flags, {}, clients).check();
  return ensureTables({ client: clients.dynamodb, tableNames: tableNames(flags) });
}
