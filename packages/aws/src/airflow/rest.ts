import type { DagTrigger } from "@musicpipe/core";
import { ConfigurationError } from "@musicpipe/core";
import {
  checkDagRun,
  type DagTriggerHttpOptions,
  type HttpResult,
  type Outcome,
  optionsObject,
  outcomeOfStatus,
  resolveHttpOptions,
  send,
  stringOption,
  withRetries,
} from "./http.js";

const FACTORY = "createAirflowRestTrigger";

/** Versions of the Airflow REST API: `v1` is Airflow 2, `v2` is Airflow 3. */
export type AirflowApiVersion = "v1" | "v2";

/** Options of {@link createAirflowRestTrigger}. */
export interface AirflowRestTriggerOptions extends DagTriggerHttpOptions {
  /**
   * Where the Airflow web server (Airflow 2) or API server (Airflow 3) answers, with any path
   * prefix it is mounted under: `https://airflow.example.com` or `https://example.com/airflow`.
   * No user name or password in it: pass `username` and `password`.
   */
  readonly baseUrl: string;
  /**
   * `v1`: Airflow 2's stable REST API, `POST /api/v1/dags/{dagId}/dagRuns` with basic auth
   * (the `basic_auth` API auth backend). `v2`: Airflow 3's API, a JWT from `POST /auth/token`
   * sent as `Authorization: Bearer`, fetched again once when a call answers 401.
   */
  readonly apiVersion: AirflowApiVersion;
  /** The Airflow user that triggers the runs (needs the "create DAG run" permission). */
  readonly username: string;
  /** Its password. Never logged and never part of an error message. */
  readonly password: string;
}

/**
 * A {@link DagTrigger} over a self-hosted Airflow's REST API: `v1` (Airflow 2, basic auth) or
 * `v2` (Airflow 3, bearer token from `/auth/token`). A run id that already exists (HTTP 409)
 * is `{ created: false }`; network errors, timeouts, 408, 429 and 5xx are retried; any other
 * status throws a {@link DagTriggerError}.
 *
 * @example
 * ```ts
 * const trigger = createAirflowRestTrigger({
 *   baseUrl: "https://airflow.example.com",
 *   apiVersion: "v2",
 *   username: process.env.AIRFLOW_USERNAME!,
 *   password: process.env.AIRFLOW_PASSWORD!,
 * });
 * await trigger.trigger("music_streaming_pipeline", "s3__streams1.csv__1f2e...", { key: "..." });
 * ```
 */
export function createAirflowRestTrigger(options: AirflowRestTriggerOptions): DagTrigger {
  optionsObject(FACTORY, options);
  const http = resolveHttpOptions(FACTORY, options);
  const baseUrl = checkBaseUrl(options.baseUrl);
  const { apiVersion } = options;
  if (apiVersion !== "v1" && apiVersion !== "v2") {
    throw new ConfigurationError(
      `${FACTORY}: 'apiVersion' must be "v1" or "v2", got '${String(apiVersion)}'`,
    );
  }
  const username = stringOption(FACTORY, "username", options.username);
  const password = stringOption(FACTORY, "password", options.password);

  const runsUrl = (dagId: string) => `${baseUrl}/api/${apiVersion}/dags/${encodeURIComponent(dagId)}/dagRuns`;
  const jsonHeaders = { "content-type": "application/json", accept: "application/json" };

  if (apiVersion === "v1") {
    const authorization = `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
    return {
      async trigger(dagId, runId, conf) {
        const confJson = checkDagRun(dagId, runId, conf);
        const body = `{"dag_run_id":${JSON.stringify(runId)},"conf":${confJson}}`;
        return withRetries(http, dagId, runId, async () => {
          const result = await send(http, runsUrl(dagId), {
            method: "POST",
            headers: { ...jsonHeaders, authorization },
            body,
          });
          return "kind" in result ? result : outcomeOfStatus(result, "Airflow");
        });
      },
    };
  }

  // v2: one token shared by all calls of this trigger; concurrent calls share one request.
  let token: Promise<string | Outcome> | undefined;
  const fetchToken = async (): Promise<string | Outcome> => {
    const result = await send(http, `${baseUrl}/auth/token`, {
      method: "POST",
      headers: jsonHeaders,
      body: JSON.stringify({ username, password }),
    });
    if ("kind" in result) return result;
    const outcome = outcomeOfStatus(result, "Airflow's token endpoint");
    if (outcome.kind === "duplicate") {
      return { kind: "fail", reason: "Airflow's token endpoint answered HTTP 409", status: 409 };
    }
    if (outcome.kind !== "created") return outcome;
    const accessToken = accessTokenOf(result);
    return (
      accessToken ?? { kind: "fail", reason: "Airflow's token endpoint answered without an access_token" }
    );
  };
  const tokenRequest = (): Promise<string | Outcome> => {
    if (token === undefined) {
      const pending = fetchToken();
      token = pending;
      // A failure is not kept: the next attempt asks again.
      void pending.then((value) => {
        if (typeof value !== "string" && token === pending) token = undefined;
      });
    }
    return token;
  };

  return {
    async trigger(dagId, runId, conf) {
      const confJson = checkDagRun(dagId, runId, conf);
      // Airflow 3 requires logical_date; null means "no logical date", so runs with the same
      // data interval can coexist and only the run id identifies the run.
      const body = `{"dag_run_id":${JSON.stringify(runId)},"logical_date":null,"conf":${confJson}}`;
      let refreshed = false;
      return withRetries(http, dagId, runId, async () => {
        for (;;) {
          const used = tokenRequest();
          const accessToken = await used;
          if (typeof accessToken !== "string") return accessToken;
          const result = await send(http, runsUrl(dagId), {
            method: "POST",
            headers: { ...jsonHeaders, authorization: `Bearer ${accessToken}` },
            body,
          });
          if ("kind" in result) return result;
          if (result.status === 401 && !refreshed) {
            // The token expired (or the server restarted with a new key): get a new one, once.
            refreshed = true;
            if (token === used) token = undefined;
            continue;
          }
          return outcomeOfStatus(result, "Airflow");
        }
      });
    },
  };
}

function accessTokenOf(result: HttpResult): string | undefined {
  try {
    const body = JSON.parse(result.text) as { access_token?: unknown };
    return typeof body.access_token === "string" && body.access_token.length > 0
      ? body.access_token
      : undefined;
  } catch {
    return undefined;
  }
}

function checkBaseUrl(value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ConfigurationError(
      `${FACTORY}: 'baseUrl' must be the Airflow URL, like https://airflow.example.com`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`${FACTORY}: 'baseUrl' is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigurationError(`${FACTORY}: 'baseUrl' must be an http(s) URL, got '${url.protocol}'`);
  }
  if (url.username !== "" || url.password !== "") {
    // Said without the URL itself: it holds a password.
    throw new ConfigurationError(
      `${FACTORY}: 'baseUrl' must not contain credentials; pass 'username' and 'password'`,
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw new ConfigurationError(`${FACTORY}: 'baseUrl' must not have a query or fragment`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
