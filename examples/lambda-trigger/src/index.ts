/**
 * The S3-event Lambda that starts one run of the pipeline's DAG per new streams file.
 * Deploy `dist/index.mjs` (one bundled file) with handler `index.handler`; see docs/trigger.md.
 */
import {
  createJsonLogger,
  type S3TriggerEvent,
  type S3TriggerHandler,
  type S3TriggerSummary,
} from "@musicpipe/aws/lambda";
import { createHandlerFromEnv } from "./config.js";

export { createHandlerFromEnv, dagTriggerFromEnv, TRIGGER_KINDS, type TriggerEnv } from "./config.js";

/** The variables the handler reads; it is built again only when one of them changes. */
const CONFIG_VARIABLES = [
  "MUSICPIPE_DAG_TRIGGER",
  "MUSICPIPE_DAG_ID",
  "MUSICPIPE_STREAMS_PREFIX",
  "MUSICPIPE_TRIGGER_TIMEOUT_MS",
  "MUSICPIPE_TRIGGER_MAX_ATTEMPTS",
  "AIRFLOW_BASE_URL",
  "AIRFLOW_API_VERSION",
  "AIRFLOW_USERNAME",
  "AIRFLOW_PASSWORD",
  "MWAA_ENV_NAME",
  "MWAA_AIRFLOW_VERSION",
  "AWS_REGION",
  "AWS_ENDPOINT_URL_MWAA",
  "AWS_LAMBDA_LOG_LEVEL",
] as const;

let cached: { readonly key: string; readonly handler: S3TriggerHandler | Error } | undefined;

/**
 * The handler for the current environment: built at cold start (in Lambda the environment
 * never changes after that) and again if the variables change, as they can in a test. A
 * configuration error is kept and thrown by every invocation, so it shows in the function's
 * errors, naming the variable.
 */
function configured(): S3TriggerHandler | Error {
  const key = JSON.stringify(CONFIG_VARIABLES.map((name) => process.env[name] ?? null));
  if (cached?.key === key) return cached.handler;
  let built: S3TriggerHandler | Error;
  try {
    built = createHandlerFromEnv(process.env);
  } catch (error) {
    built = error instanceof Error ? error : new Error(String(error));
    createJsonLogger({
      service: "musicpipe-trigger",
      level: "error",
      write: (line) => process.stderr.write(line),
    }).error(built.message, { code: (built as { code?: unknown }).code });
  }
  cached = { key, handler: built };
  return built;
}

configured();

/** The Lambda entry point: `index.handler`. */
export async function handler(event: S3TriggerEvent, context?: unknown): Promise<S3TriggerSummary> {
  const current = configured();
  if (current instanceof Error) throw current;
  return current(event, context);
}
