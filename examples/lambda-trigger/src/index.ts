/**
 * The S3-event Lambda that starts one run of the pipeline's DAG per new streams file.
 * Deploy `dist/index.mjs` (one bundled file) with handler `index.handler`; see docs/trigger.md.
 */
import type { S3TriggerEvent, S3TriggerHandler, S3TriggerSummary } from "@musicpipe/aws/lambda";
import { createHandlerFromEnv } from "./config.js";

export { createHandlerFromEnv, dagTriggerFromEnv, TRIGGER_KINDS, type TriggerEnv } from "./config.js";

// Built once per execution environment, at cold start. A configuration error is kept and
// thrown by every invocation, so it shows in the function's errors, naming the variable.
let configured: S3TriggerHandler | Error;
try {
  configured = createHandlerFromEnv(process.env);
} catch (error) {
  configured = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(
    `${JSON.stringify({ level: "error", message: configured.message, service: "musicpipe-trigger" })}\n`,
  );
}

/** The Lambda entry point: `index.handler`. */
export async function handler(event: S3TriggerEvent, context?: unknown): Promise<S3TriggerSummary> {
  if (configured instanceof Error) throw configured;
  return configured(event, context);
}
