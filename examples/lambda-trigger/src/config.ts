import {
  createAirflowRestTrigger,
  createMwaaCliTrigger,
  createMwaaRestApiTrigger,
  type DagTriggerHttpOptions,
} from "@musicpipe/aws/airflow";
import {
  createJsonLogger,
  createS3TriggerHandler,
  logLevelFrom,
  type S3TriggerHandler,
} from "@musicpipe/aws/lambda";
import { ConfigurationError, type DagTrigger, type Logger } from "@musicpipe/core";

/** The environment variables the trigger Lambda reads. */
export type TriggerEnv = Readonly<Record<string, string | undefined>>;

/** Values of `MUSICPIPE_DAG_TRIGGER`. */
export const TRIGGER_KINDS = ["airflow", "mwaa-cli", "mwaa-rest"] as const;

function fail(variable: string, problem: string): never {
  throw new ConfigurationError(`lambda-trigger configuration: ${variable} ${problem}`);
}

function required(env: TriggerEnv, variable: string, what: string): string {
  const value = env[variable]?.trim();
  if (!value) fail(variable, `is not set: it must be ${what}`);
  return value;
}

function optionalInteger(env: TriggerEnv, variable: string, min: number, max: number): number | undefined {
  const value = env[variable]?.trim();
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    fail(variable, `must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** Runs an adapter factory, naming the variables it was built from when it refuses them. */
function build<T>(variables: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    throw new ConfigurationError(`lambda-trigger configuration (${variables}): ${error.message}`, {
      cause: error,
    });
  }
}

/**
 * The {@link DagTrigger} chosen by `MUSICPIPE_DAG_TRIGGER`, configured from the environment.
 * Throws a {@link ConfigurationError} naming the variable that is missing or wrong.
 */
export function dagTriggerFromEnv(env: TriggerEnv): DagTrigger {
  const kind = required(env, "MUSICPIPE_DAG_TRIGGER", `one of ${TRIGGER_KINDS.join(", ")}`);
  const http: DagTriggerHttpOptions = {
    timeoutMs: optionalInteger(env, "MUSICPIPE_TRIGGER_TIMEOUT_MS", 1, 900_000),
    maxAttempts: optionalInteger(env, "MUSICPIPE_TRIGGER_MAX_ATTEMPTS", 1, 20),
  };
  switch (kind) {
    case "airflow": {
      const baseUrl = required(env, "AIRFLOW_BASE_URL", "the Airflow URL, like https://airflow.example.com");
      if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
        fail("AIRFLOW_BASE_URL", "must be an http(s) URL, like https://airflow.example.com");
      }
      const apiVersion = required(env, "AIRFLOW_API_VERSION", "v1 (Airflow 2) or v2 (Airflow 3)");
      if (apiVersion !== "v1" && apiVersion !== "v2") {
        fail("AIRFLOW_API_VERSION", `must be v1 (Airflow 2) or v2 (Airflow 3), got '${apiVersion}'`);
      }
      const username = required(env, "AIRFLOW_USERNAME", "the Airflow user that triggers runs");
      const password = required(env, "AIRFLOW_PASSWORD", "that user's password");
      return build("AIRFLOW_BASE_URL, AIRFLOW_USERNAME, AIRFLOW_PASSWORD", () =>
        createAirflowRestTrigger({ baseUrl, apiVersion, username, password, ...http }),
      );
    }
    case "mwaa-cli":
    case "mwaa-rest": {
      const environmentName = required(env, "MWAA_ENV_NAME", "the MWAA environment's name");
      const region = env.AWS_REGION?.trim() || undefined;
      const endpoint = env.AWS_ENDPOINT_URL_MWAA?.trim() || undefined;
      const options = { environmentName, region, endpoint, ...http };
      if (kind === "mwaa-cli") {
        return build("MWAA_ENV_NAME, AWS_REGION", () => createMwaaCliTrigger(options));
      }
      const version = env.MWAA_AIRFLOW_VERSION?.trim() || "2";
      if (version !== "2" && version !== "3")
        fail("MWAA_AIRFLOW_VERSION", `must be 2 or 3, got '${version}'`);
      return build("MWAA_ENV_NAME, AWS_REGION", () =>
        createMwaaRestApiTrigger({ ...options, airflowVersion: version === "3" ? 3 : 2 }),
      );
    }
    default:
      return fail("MUSICPIPE_DAG_TRIGGER", `must be one of ${TRIGGER_KINDS.join(", ")}, got '${kind}'`);
  }
}

/**
 * The trigger Lambda's handler, configured from `env` (see docs/trigger.md for the variables).
 * Logs JSON lines on stdout at `AWS_LAMBDA_LOG_LEVEL` unless given another `logger`.
 */
export function createHandlerFromEnv(
  env: TriggerEnv,
  options: { readonly logger?: Logger } = {},
): S3TriggerHandler {
  const trigger = dagTriggerFromEnv(env);
  const logger =
    options.logger ??
    createJsonLogger({
      service: "musicpipe-trigger",
      level: logLevelFrom(env.AWS_LAMBDA_LOG_LEVEL),
    });
  const dagId = env.MUSICPIPE_DAG_ID?.trim() || undefined;
  const streamsPrefix = env.MUSICPIPE_STREAMS_PREFIX?.trim() || undefined;
  return build("MUSICPIPE_DAG_ID, MUSICPIPE_STREAMS_PREFIX", () =>
    createS3TriggerHandler({ trigger, logger, dagId, streamsPrefix }),
  );
}
