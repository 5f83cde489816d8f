import { type FlagSpec, parseFlags, UsageError } from "../args.js";
import type { CliIo } from "../io.js";
import { awsTargetUsage, targetFlags } from "../target.js";

export const initUsage = `Usage: musicpipe init --target aws --bucket B

Creates the DynamoDB tables (on demand capacity) that are missing and checks that the bucket
can be reached. Safe to run again.

${awsTargetUsage}`;

const spec: FlagSpec = targetFlags;

/** `musicpipe init --target aws --bucket B`: returns the exit status. */
export async function initCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, spec);
  if (flags.strings.get("target") !== "aws") {
    throw new UsageError("init is for --target aws (a local --root needs no setup)");
  }
  const { initAws } = await import("../aws-target.js");
  const { created, existing } = await initAws(flags);
  io.stdout(
    `Bucket ${flags.strings.get("bucket")} is reachable.\n` +
      `Tables created: ${created.length === 0 ? "none" : created.join(", ")}\n` +
      `Tables already there: ${existing.length === 0 ? "none" : existing.join(", ")}\n`,
  );
  return 0;
}
