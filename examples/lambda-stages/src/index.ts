/**
 * The stage Lambda: runs one pipeline stage on one streams file per invocation, or loads one
 * listen date (or one listener shard of it), for the Airflow DAGs in examples/airflow/.
 * Configured by environment variables (see config.ts); bundled by `pnpm build` into
 * dist/index.mjs, handler `index.handler`.
 *
 * Events: `{ "stage": "validate" | "transform" | "load" | "archive", "bucket": "...", "key": "...",
 * "runId": "..." }` (or the object in `"conf": { "bucket", "key" }`);
 * `{ "stage": "load_date", "bucket": "...", "listenDate": "YYYY-MM-DD", "shard"?: n }`;
 * `{ "stage": "finish_date", "bucket": "...", "listenDate": "YYYY-MM-DD" }`. Result: the
 * stage's JSON result; a failure is thrown, for Airflow to retry.
 */
import { createStageHandler } from "@musicpipe/aws/lambda";
import { stageOptionsFromEnv } from "./config.js";

export const handler = createStageHandler(stageOptionsFromEnv(process.env));
