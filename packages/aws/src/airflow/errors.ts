import { MusicpipeError } from "@musicpipe/core";

/** Machine codes of {@link DagTriggerError}. */
export type DagTriggerErrorCode =
  /** Airflow refused the run (400, 401, 403, 404, a CLI error) or kept failing transiently. */
  | "dag_trigger_failed"
  /** The DAG id or run id cannot be sent safely: not `^[A-Za-z0-9_.~:+-]+$`, or too long. */
  | "invalid_dag_run";

/** Fields of a {@link DagTriggerError}, besides the message. */
export interface DagTriggerErrorDetails {
  /** The DAG that was to run. */
  readonly dagId: string;
  /** The run id that was asked for. */
  readonly runId: string;
  /**
   * The HTTP status that decided the failure: Airflow's own status when a proxy (MWAA
   * InvokeRestApi) reports it, else the status of the response. `undefined` for network
   * errors, timeouts and CLI errors reported in a 200 response.
   */
  readonly status?: number | undefined;
  /** How many requests were made, retries included. */
  readonly attempts?: number | undefined;
  /**
   * `true` when the last failure was transient (network error, timeout, 429, 5xx) and the
   * attempts ran out: retrying later may succeed. `false` when Airflow refused the request.
   */
  readonly transient?: boolean | undefined;
  readonly cause?: unknown;
}

/**
 * Triggering a DAG run failed. The message says which DAG and run and why (an HTTP status, a
 * timeout, the last line of the CLI's stderr); it never contains credentials or tokens.
 */
export class DagTriggerError extends MusicpipeError {
  declare readonly code: DagTriggerErrorCode;
  /** The DAG that was to run. */
  readonly dagId: string;
  /** The run id that was asked for. */
  readonly runId: string;
  /** See {@link DagTriggerErrorDetails.status}. */
  readonly status: number | undefined;
  /** How many requests were made, retries included. */
  readonly attempts: number;
  /** See {@link DagTriggerErrorDetails.transient}. */
  readonly transient: boolean;

  constructor(code: DagTriggerErrorCode, message: string, details: DagTriggerErrorDetails) {
    super(code, message, details.cause === undefined ? {} : { cause: details.cause });
    this.dagId = details.dagId;
    this.runId = details.runId;
    this.status = details.status;
    this.attempts = details.attempts ?? 0;
    this.transient = details.transient ?? false;
  }
}
