/**
 * The stage Lambda: runs one pipeline stage on one streams file per invocation, for the
 * Airflow DAG in examples/airflow/. Configured by environment variables (see config.ts);
 * bundled by `pnpm build` into dist/index.mjs, handler `index.handler`.
 *
 * Event: `{ "stage": "validate" | "transform" | "load" | "archive", "bucket": "...", "key": "...",
 * "runId": "..." }` (or the object in `"conf": { "bucket", "key" }`). Result: the stage's
 * StageResult JSON; a failure is thrown, for Airflow to retry.
 */
import { createStageHandler } from "@musicpipe/aws/lambda";
import { stageOptionsFromEnv } from "./config.js";

export const handler = createStageHandler(stageOptionsFromEnv(process.env));
