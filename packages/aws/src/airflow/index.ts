/**
 * `@musicpipe/aws/airflow`: {@link DagTrigger} adapters that start a run of the pipeline's
 * Airflow DAG. Self-hosted Airflow REST API v1 (Airflow 2) and v2 (Airflow 3), MWAA's CLI
 * endpoint, and MWAA's InvokeRestApi. All treat an existing run id as success
 * (`{ created: false }`), retry transient failures with backoff, and throw
 * {@link DagTriggerError} otherwise.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/aws/airflow
 */
import type { DagTrigger } from "@musicpipe/core";

export type { AwsCredentials, AwsCredentialsProvider, MwaaApiOptions } from "./aws.js";
export { DagTriggerError, type DagTriggerErrorCode, type DagTriggerErrorDetails } from "./errors.js";
export { type DagTriggerHttpOptions, MAX_RUN_ID_LENGTH, RUN_ID_PATTERN } from "./http.js";
export {
  createMwaaCliTrigger,
  type MwaaCliToken,
  type MwaaCliTriggerOptions,
  mwaaTriggerCommand,
  shellQuote,
} from "./mwaa-cli.js";
export { createMwaaRestApiTrigger, type MwaaRestApiTriggerOptions } from "./mwaa-rest.js";
export { type AirflowApiVersion, type AirflowRestTriggerOptions, createAirflowRestTrigger } from "./rest.js";

/** The port these adapters implement, re-exported for convenience. */
export type { DagTrigger };
