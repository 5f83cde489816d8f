import type { DagTrigger } from "@musicpipe/core";
import { ConfigurationError } from "@musicpipe/core";
import { awsErrorType, type MwaaApiOptions, resolveMwaaApi, signedPost } from "./aws.js";
import {
  checkDagRun,
  type HttpResult,
  isTransientStatus,
  type Outcome,
  optionsObject,
  outcomeOfStatus,
  problemText,
  resolveHttpOptions,
  withRetries,
} from "./http.js";

const FACTORY = "createMwaaRestApiTrigger";

/** Options of {@link createMwaaRestApiTrigger}. */
export interface MwaaRestApiTriggerOptions extends MwaaApiOptions {
  /**
   * The environment's Airflow major version. Airflow 3's API requires `logical_date` in the
   * body, sent as `null` (the run id alone identifies the run); Airflow 2's does not, so it is
   * left out.
   * @default 2
   */
  readonly airflowVersion?: 2 | 3 | undefined;
}

/**
 * A {@link DagTrigger} over MWAA's `InvokeRestApi` (`POST /restapi/{Name}` on
 * `env.airflow.{region}.amazonaws.com`, SigV4 service `airflow`), which forwards
 * `POST /dags/{dagId}/dagRuns` to the environment's Airflow REST API. Needs the
 * `airflow:InvokeRestApi` permission on the environment and an Airflow role (MWAA maps the
 * IAM principal to one) that may create DAG runs. A run id that already exists (Airflow's 409,
 * reported in `RestApiStatusCode`) is `{ created: false }`.
 *
 * @example
 * ```ts
 * const trigger = createMwaaRestApiTrigger({ environmentName: "music-mwaa", region: "eu-west-1" });
 * await trigger.trigger("music_streaming_pipeline", runId, { bucket, key, etag });
 * ```
 */
export function createMwaaRestApiTrigger(options: MwaaRestApiTriggerOptions): DagTrigger {
  optionsObject(FACTORY, options);
  const http = resolveHttpOptions(FACTORY, options);
  const api = resolveMwaaApi(FACTORY, options);
  const airflowVersion = options.airflowVersion ?? 2;
  if (airflowVersion !== 2 && airflowVersion !== 3) {
    throw new ConfigurationError(
      `${FACTORY}: 'airflowVersion' must be 2 or 3, got ${String(airflowVersion)}`,
    );
  }
  const path = `/restapi/${encodeURIComponent(api.environmentName)}`;

  return {
    async trigger(dagId, runId, conf) {
      const confJson = checkDagRun(dagId, runId, conf);
      const body =
        `{"Path":${JSON.stringify(`/dags/${dagId}/dagRuns`)},` +
        `"Method":"POST","Body":{"dag_run_id":${JSON.stringify(runId)},` +
        `${airflowVersion === 3 ? '"logical_date":null,' : ""}"conf":${confJson}}}`;
      return withRetries(http, dagId, runId, async () => {
        const result = await signedPost(http, api, path, body);
        return "kind" in result ? result : outcomeOfInvoke(result);
      });
    },
  };
}

/**
 * The outcome of an InvokeRestApi answer. MWAA answers 200 with Airflow's status in
 * `RestApiStatusCode` when Airflow succeeded, and an error (`RestApiClientException` 400,
 * `RestApiServerException` 500, ...) that also carries `RestApiStatusCode` when it did not.
 * Airflow's status decides when there is one; MWAA's own errors (AccessDenied,
 * ResourceNotFound, Throttling, ...) decide by the HTTP status.
 */
function outcomeOfInvoke(result: HttpResult): Outcome {
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(result.text);
    if (parsed !== null && typeof parsed === "object") body = parsed as Record<string, unknown>;
  } catch {
    // An empty or HTML body: decide by the HTTP status.
  }
  const airflowStatus = typeof body?.RestApiStatusCode === "number" ? body.RestApiStatusCode : undefined;
  const errorType = awsErrorType(result, body);
  if (airflowStatus === undefined) {
    const outcome = outcomeOfStatus(result, errorType === undefined ? "MWAA" : `MWAA (${errorType})`);
    // ThrottlingException comes as 400 in some AWS JSON services.
    return errorType === "ThrottlingException" && outcome.kind === "fail"
      ? { ...outcome, kind: "retry" }
      : outcome;
  }
  if (airflowStatus >= 200 && airflowStatus < 300) return { kind: "created" };
  if (airflowStatus === 409) return { kind: "duplicate" };
  const response = body?.RestApiResponse;
  const detail =
    response !== null && typeof response === "object" ? problemText(JSON.stringify(response)) : undefined;
  const reason = `Airflow (through MWAA InvokeRestApi) answered HTTP ${airflowStatus}${detail ? ` (${detail})` : ""}`;
  return isTransientStatus(airflowStatus)
    ? { kind: "retry", reason, status: airflowStatus }
    : { kind: "fail", reason, status: airflowStatus };
}
