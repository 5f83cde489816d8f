import type { DagTrigger } from "@musicpipe/core";
import { ConfigurationError } from "@musicpipe/core";
import { awsErrorType, type MwaaApiOptions, resolveMwaaApi, signedPost } from "./aws.js";
import { DagTriggerError } from "./errors.js";
import {
  checkDagRun,
  type DagTriggerHttpOptions,
  type HttpResult,
  isTransientStatus,
  type Outcome,
  optionsObject,
  outcomeOfStatus,
  printable,
  resolveHttpOptions,
  send,
  withRetries,
} from "./http.js";

const FACTORY = "createMwaaCliTrigger";

/** What MWAA's `CreateCliToken` returns. */
export interface MwaaCliToken {
  /** The token, valid for 60 seconds. */
  readonly cliToken: string;
  /** The Airflow web server's host name (`xxxx.c2.eu-west-1.airflow.amazonaws.com`). */
  readonly webServerHostname: string;
}

/**
 * Options of {@link createMwaaCliTrigger}. Give either `createCliToken`, or what it takes to
 * call MWAA's CreateCliToken API directly (`environmentName`, and `region` and `credentials`
 * unless the defaults fit).
 */
export interface MwaaCliTriggerOptions extends DagTriggerHttpOptions, Partial<MwaaApiOptions> {
  /**
   * Gets a CLI token; for instance with `@aws-sdk/client-mwaa`:
   * `async () => { const t = await mwaa.send(new CreateCliTokenCommand({ Name })); return { cliToken: t.CliToken!, webServerHostname: t.WebServerHostname! }; }`.
   * @default `POST /clitoken/{environmentName}` on the MWAA API, SigV4-signed: needs
   *   `airflow:CreateCliToken` on the environment.
   */
  readonly createCliToken?: (() => Promise<MwaaCliToken>) | undefined;
  /**
   * Scheme of the web server URL built from `webServerHostname`. Only tests use `http`.
   * @default "https"
   */
  readonly webServerProtocol?: "https" | "http" | undefined;
}

/** A CLI token is valid for 60 seconds; reuse one for a little less. */
const TOKEN_REUSE_MS = 45_000;

/**
 * A {@link DagTrigger} over MWAA's CLI endpoint: a token from `CreateCliToken`, then
 * `POST https://{webServerHostname}/aws_mwaa/cli` with the command
 * `dags trigger '{dagId}' --run-id '{runId}' --conf '{json}'` (see {@link mwaaTriggerCommand}:
 * every argument single-quoted, so no conf value can add arguments). The answer's base64
 * `stdout` and `stderr` are decoded: a run id that already exists is `{ created: false }`; any
 * other error on stderr throws a {@link DagTriggerError} with its last line.
 *
 * @example
 * ```ts
 * const trigger = createMwaaCliTrigger({ environmentName: "music-mwaa", region: "eu-west-1" });
 * await trigger.trigger("music_streaming_pipeline", runId, { bucket, key, etag });
 * ```
 */
export function createMwaaCliTrigger(options: MwaaCliTriggerOptions): DagTrigger {
  optionsObject(FACTORY, options);
  const http = resolveHttpOptions(FACTORY, options);
  const protocol = options.webServerProtocol ?? "https";
  if (protocol !== "https" && protocol !== "http") {
    throw new ConfigurationError(`${FACTORY}: 'webServerProtocol' must be "https" or "http"`);
  }
  let createCliToken: () => Promise<MwaaCliToken | Outcome>;
  if (options.createCliToken !== undefined) {
    if (typeof options.createCliToken !== "function") {
      throw new ConfigurationError(`${FACTORY}: 'createCliToken' must be a function`);
    }
    const injected = options.createCliToken;
    createCliToken = async () => {
      try {
        return await injected();
      } catch (error) {
        // An AWS SDK error says whether it is worth retrying (AccessDenied is not).
        const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata
          ?.httpStatusCode;
        const name = (error as { name?: unknown } | null)?.name;
        const reason = `createCliToken failed${typeof name === "string" ? ` (${printable(name, 80)})` : ""}`;
        return typeof status === "number" && !isTransientStatus(status)
          ? { kind: "fail", reason, status }
          : { kind: "retry", reason, status: typeof status === "number" ? status : undefined, cause: error };
      }
    };
  } else {
    const api = resolveMwaaApi(FACTORY, options as MwaaApiOptions);
    const path = `/clitoken/${encodeURIComponent(api.environmentName)}`;
    createCliToken = async () => {
      const result = await signedPost(http, api, path, "");
      return "kind" in result ? result : cliTokenOf(result);
    };
  }

  let cached: { token: Promise<MwaaCliToken | Outcome>; until: number } | undefined;
  const tokenRequest = (): Promise<MwaaCliToken | Outcome> => {
    if (cached === undefined || Date.now() >= cached.until) {
      const token = createCliToken();
      const entry = { token, until: Date.now() + TOKEN_REUSE_MS };
      cached = entry;
      void token.then((value) => {
        if ("kind" in value && cached === entry) cached = undefined;
      });
    }
    return cached.token;
  };

  return {
    async trigger(dagId, runId, conf) {
      checkDagRun(dagId, runId, conf);
      const command = mwaaTriggerCommand(dagId, runId, conf);
      let refreshed = false;
      return withRetries(http, dagId, runId, async () => {
        for (;;) {
          const used = tokenRequest();
          const token = await used;
          if ("kind" in token) return token;
          const result = await send(http, `${protocol}://${token.webServerHostname}/aws_mwaa/cli`, {
            method: "POST",
            headers: { authorization: `Bearer ${token.cliToken}`, "content-type": "text/plain" },
            body: command,
          });
          if ("kind" in result) return result;
          if ((result.status === 401 || result.status === 403) && !refreshed) {
            // The 60-second token expired between issue and use: get a new one, once.
            refreshed = true;
            if (cached?.token === used) cached = undefined;
            continue;
          }
          return outcomeOfCli(result, runId);
        }
      });
    },
  };
}

/** Single-quotes `value` for a POSIX shell-like split (`shlex.split`): `'` becomes `'"'"'`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/**
 * The body sent to MWAA's CLI endpoint: `dags trigger '{dagId}' --run-id '{runId}' --conf '{json}'`.
 * The endpoint splits it with shell-like rules; every argument is single-quoted (a `'` inside
 * becomes `'"'"'`), so whatever the conf holds (quotes, spaces, `--conf`, `;`, newlines,
 * `$(...)`), it stays one argument. The DAG id and run id must not start with `-`, where the
 * CLI's argument parser would read them as options.
 */
export function mwaaTriggerCommand(
  dagId: string,
  runId: string,
  conf: Readonly<Record<string, unknown>>,
): string {
  const confJson = checkDagRun(dagId, runId, conf);
  if (dagId.startsWith("-") || runId.startsWith("-")) {
    throw new DagTriggerError(
      "invalid_dag_run",
      `cannot trigger DAG '${dagId}' through the MWAA CLI: the DAG id and run id must not start with '-'`,
      { dagId, runId },
    );
  }
  return `dags trigger ${shellQuote(dagId)} --run-id ${shellQuote(runId)} --conf ${shellQuote(confJson)}`;
}

function cliTokenOf(result: HttpResult): MwaaCliToken | Outcome {
  if (result.status < 200 || result.status >= 300) {
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(result.text) as Record<string, unknown>;
    } catch {
      // decide by the status
    }
    const errorType = awsErrorType(result, body);
    const outcome = outcomeOfStatus(
      result,
      `MWAA CreateCliToken${errorType === undefined ? "" : ` (${errorType})`}`,
    );
    return outcome.kind === "duplicate"
      ? { kind: "fail", reason: "MWAA CreateCliToken answered HTTP 409", status: 409 }
      : outcome;
  }
  try {
    const body = JSON.parse(result.text) as { CliToken?: unknown; WebServerHostname?: unknown };
    if (typeof body.CliToken === "string" && typeof body.WebServerHostname === "string") {
      return { cliToken: body.CliToken, webServerHostname: body.WebServerHostname };
    }
  } catch {
    // fall through
  }
  return { kind: "fail", reason: "MWAA CreateCliToken answered without CliToken and WebServerHostname" };
}

const decodeBase64 = (value: unknown) =>
  typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : "";

/**
 * Signs of a failed CLI command on stderr (warnings go there too, so not just any output): a
 * traceback, an exception line (`airflow.exceptions.DagNotFound: ...`, `ValueError: ...`), or
 * an argument parser error (`airflow dags trigger: error: ...`).
 */
function isCliError(stderr: string): boolean {
  if (stderr.includes("Traceback (most recent call last)")) return true;
  return stderr.split("\n").some((line) => {
    // `airflow.exceptions.DagNotFound: ...` (qualified) or `ValueError: ...` (built in); not
    // `WARNING: ...` or `airflow.utils.SomeWarning: ...`.
    const exception = /^((?:[a-z_]\w*\.)+)?([A-Z]\w*): /.exec(line.trim());
    if (exception !== null) {
      const [, module, name = ""] = exception;
      if (!name.endsWith("Warning") && (module !== undefined || /(Error|Exception)$/.test(name))) return true;
    }
    return /^\S.*: error: /.test(line);
  });
}

/** The outcome of the CLI endpoint's answer: HTTP status first, then the command's stderr. */
function outcomeOfCli(result: HttpResult, runId: string): Outcome {
  if (result.status < 200 || result.status >= 300) return outcomeOfStatus(result, "The MWAA CLI endpoint");
  let stdout = "";
  let stderr = "";
  try {
    const body = JSON.parse(result.text) as { stdout?: unknown; stderr?: unknown };
    stdout = decodeBase64(body.stdout);
    stderr = decodeBase64(body.stderr);
  } catch {
    return { kind: "fail", reason: "the MWAA CLI endpoint answered with something other than JSON" };
  }
  const output = `${stdout}\n${stderr}`;
  if (/already exists/i.test(output) && (output.includes(runId) || /DagRunAlreadyExists/.test(output))) {
    return { kind: "duplicate" };
  }
  if (isCliError(stderr)) {
    const lines = stderr.split("\n").filter((line) => line.trim() !== "");
    return { kind: "fail", reason: `the Airflow CLI failed: ${printable(lines.at(-1)?.trim() ?? "")}` };
  }
  return { kind: "created" };
}
