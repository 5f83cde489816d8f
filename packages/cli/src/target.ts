import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import type { PipelineConfig, PipelineContext } from "@musicpipe/core";
import { type FlagSpec, type ParsedFlags, UsageError } from "./args.js";

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
  "day-states-table": "string",
};

const AWS_WHERE = `  --target aws --bucket B   S3 bucket B and DynamoDB, with the standard AWS SDK configuration
                            (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB,
                            AWS_REQUEST_CHECKSUM_CALCULATION, AWS_RESPONSE_CHECKSUM_VALIDATION, ...)`;
const AWS_OPTIONS = `AWS options:
  --prefix P                key prefix inside the bucket (default: none)
  --force-path-style        path-style S3 URLs (local S3 servers)
  --kpis-table N            default MusicStreamingKPIs
  --top-songs-table N       default TopSongsByGenre
  --top-genres-table N      default TopGenresByDay
  --files-table N           default FileValidationMetadata
  --partials-table N        default MusicpipePartials
  --day-states-table N      default MusicpipeDayStates`;

/** The help text of the target options, for commands that take a local folder or AWS. */
export const targetUsage = `Where (one of):
  --root DIR                a local folder: objects are files under DIR, tables under DIR/.musicpipe/
${AWS_WHERE}
${AWS_OPTIONS}`;

/** The help text of the target options, for commands that are for AWS only (`init`). */
export const awsTargetUsage = `Where:
${AWS_WHERE}
${AWS_OPTIONS}`;

/** An opened target: its pipeline context and how to run work on it exclusively. */
export interface Target {
  readonly ctx: PipelineContext;
  /** Runs `work` holding the target's lock (a local folder's lock file; nothing on AWS, where writes are conditional). */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Checks that the input prefix exists (local) or the bucket is reachable (AWS). */
  check(): Promise<void>;
  /**
   * Checks that the store answers, for commands that only read state (`status`, `export`): the
   * bucket is reachable (AWS); the folder was checked when it was opened (local).
   */
  reach(): Promise<void>;
}

/** Checks that `--root DIR` is a folder that can be read, before anything is opened under it. */
async function requireFolder(root: string): Promise<void> {
  const info = await stat(root).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    throw new UsageError(
      info.code === "ENOENT" || info.code === "ENOTDIR"
        ? `--root '${root}' does not exist`
        : `cannot read --root '${root}': ${info.code ?? info.message}`,
    );
  }
  if (!info.isDirectory()) throw new UsageError(`--root '${root}' is not a folder`);
  await access(root, constants.R_OK | constants.X_OK).catch(() => {
    throw new UsageError(`cannot read --root '${root}': permission denied`);
  });
}

/**
 * Opens `--root DIR` or `--target aws --bucket B`. Each target's modules are loaded when it is
 * opened (the AWS SDK only for the AWS target), so commands that open none, like `kpis`, start
 * without them.
 */
export async function openTarget(flags: ParsedFlags, config: Partial<PipelineConfig> = {}): Promise<Target> {
  const target = flags.strings.get("target") ?? (flags.strings.has("bucket") ? "aws" : "local");
  if (target === "local") {
    const root = flags.strings.get("root");
    if (root === undefined) throw new UsageError("give --root DIR, or --target aws --bucket B");
    await requireFolder(root);
    const { localPipeline, requireRoot, withRootLock } = await import("./local-target.js");
    const ctx = localPipeline(root, config);
    return {
      ctx,
      exclusive: (work) => withRootLock(root, work),
      check: () => requireRoot(root, ctx.layout.streams),
      reach: async () => {},
    };
  }
  if (target !== "aws")
    throw new UsageError(`--target must be 'aws' (or omitted with --root), got '${target}'`);
  const { openAwsTarget } = await import("./aws-target.js");
  return openAwsTarget(flags, config);
}
