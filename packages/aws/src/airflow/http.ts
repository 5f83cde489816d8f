import { ConfigurationError } from "@musicpipe/core";
import { DagTriggerError } from "./errors.js";

/** Options shared by every DAG trigger: the HTTP client, timeouts and retries. */
export interface DagTriggerHttpOptions {
  /**
   * The `fetch` to call. Inject one to count calls in tests or to add a proxy agent.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /**
   * Each request is aborted after this many milliseconds (an `AbortSignal.timeout`), body
   * included; a timeout is transient and retried.
   * @default 10_000
   */
  readonly timeoutMs?: number | undefined;
  /**
   * Attempts per trigger, the first included. Network errors, timeouts, 408, 429 and 5xx
   * responses are retried with exponential backoff and full jitter; other failures are not.
   * @default 4
   */
  readonly maxAttempts?: number | undefined;
  /**
   * Upper bound of the first retry delay, doubled on each further retry (full jitter: the
   * delay is uniformly random below the bound).
   * @default 200
   */
  readonly baseDelayMs?: number | undefined;
  /**
   * Cap of one retry delay, also of a server's `Retry-After`.
   * @default 5_000
   */
  readonly maxDelayMs?: number | undefined;
}

/** {@link DagTriggerHttpOptions} checked, with the defaults applied. */
export interface ResolvedHttpOptions {
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Airflow's own rule for run ids accepted by its REST API (and safe on a command line). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_.~:+-]+$/;
/** Airflow stores run ids in a 250-character column. */
export const MAX_RUN_ID_LENGTH = 250;
/** DAG ids: Airflow allows letters, digits, `_`, `.` and `-`. */
const DAG_ID_PATTERN = /^[A-Za-z0-9_.-]+$/;
const MAX_DAG_ID_LENGTH = 250;

export function integerOption(
  factory: string,
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `${factory}: '${name}' must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

export function stringOption(factory: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ConfigurationError(`${factory}: '${name}' must be a non-empty string`);
  }
  return value;
}

export function optionsObject<T>(factory: string, options: T): T {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError(`${factory}: an options object is required`);
  }
  return options;
}

/** Checks the options shared by every trigger and applies their defaults. */
export function resolveHttpOptions(factory: string, options: DagTriggerHttpOptions): ResolvedHttpOptions {
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== "function") {
    throw new ConfigurationError(
      `${factory}: 'fetch' must be a function (no global fetch: Node 18 or later)`,
    );
  }
  const baseDelayMs = integerOption(factory, "baseDelayMs", options.baseDelayMs, 200, 0, 60_000);
  return {
    fetch: fetchFn,
    timeoutMs: integerOption(factory, "timeoutMs", options.timeoutMs, 10_000, 1, 900_000),
    maxAttempts: integerOption(factory, "maxAttempts", options.maxAttempts, 4, 1, 20),
    baseDelayMs,
    maxDelayMs: integerOption(factory, "maxDelayMs", options.maxDelayMs, 5_000, baseDelayMs, 300_000),
  };
}

/** Throws `invalid_dag_run` unless the DAG id and run id are safe to send; returns conf as JSON. */
export function checkDagRun(dagId: string, runId: string, conf: unknown): string {
  const fail = (why: string) =>
    new DagTriggerError("invalid_dag_run", `cannot trigger DAG '${printable(dagId)}': ${why}`, {
      dagId: String(dagId),
      runId: String(runId),
    });
  if (typeof dagId !== "string" || !DAG_ID_PATTERN.test(dagId) || dagId.length > MAX_DAG_ID_LENGTH) {
    throw fail(`the DAG id must match ${DAG_ID_PATTERN} and have at most ${MAX_DAG_ID_LENGTH} characters`);
  }
  if (typeof runId !== "string" || !RUN_ID_PATTERN.test(runId) || runId.length > MAX_RUN_ID_LENGTH) {
    throw fail(
      `run id '${printable(String(runId))}' must match ${RUN_ID_PATTERN} and have at most ${MAX_RUN_ID_LENGTH} characters`,
    );
  }
  if (conf === null || typeof conf !== "object" || Array.isArray(conf)) {
    throw fail("conf must be a JSON object");
  }
  try {
    return JSON.stringify(conf);
  } catch (error) {
    throw new DagTriggerError(
      "invalid_dag_run",
      `cannot trigger DAG '${dagId}': conf is not JSON-serialisable`,
      {
        dagId,
        runId,
        cause: error,
      },
    );
  }
}

/** At most 200 characters, control characters shown as `?`: safe to put in a message or a log. */
export function printable(text: string, max = 200): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** A response read whole (Airflow's answers are small). */
export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** One request with the timeout; a network error or timeout comes back as a transient outcome. */
export async function send(
  http: ResolvedHttpOptions,
  url: string,
  init: RequestInit,
): Promise<HttpResult | Extract<Outcome, { kind: "retry" }>> {
  try {
    const response = await http.fetch(url, { ...init, signal: AbortSignal.timeout(http.timeoutMs) });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    const reason =
      name === "TimeoutError" || name === "AbortError"
        ? `timed out after ${http.timeoutMs} ms`
        : "network error";
    return { kind: "retry", reason, cause: error };
  }
}

/** What one attempt of a trigger came to. */
export type Outcome =
  | { readonly kind: "created" }
  | { readonly kind: "duplicate" }
  /** Transient: worth another attempt. */
  | {
      readonly kind: "retry";
      readonly reason: string;
      readonly status?: number | undefined;
      readonly retryAfterMs?: number | undefined;
      readonly cause?: unknown;
    }
  /** Refused: another attempt would fail the same way. */
  | { readonly kind: "fail"; readonly reason: string; readonly status?: number | undefined };

/** `true` for statuses worth retrying: 408, 429 and 5xx. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `title` and `detail` of an Airflow problem response, or the start of the body. */
export function problemText(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const parts = [body.title, body.detail, body.message, body.Message].filter(
      (part): part is string => typeof part === "string" && part.length > 0,
    );
    if (parts.length > 0) return printable(parts.join(": "));
    if (Array.isArray(body.detail)) return printable(JSON.stringify(body.detail));
  } catch {
    // Not JSON: an HTML error page of a proxy, say.
  }
  return printable(text.trim(), 120);
}

/** The outcome of an HTTP answer by its status alone: 2xx created, 409 duplicate, ... */
export function outcomeOfStatus(result: HttpResult, what: string): Outcome {
  const { status } = result;
  if (status >= 200 && status < 300) return { kind: "created" };
  if (status === 409) return { kind: "duplicate" };
  const detail = problemText(result.text);
  const reason = `${what} answered HTTP ${status}${detail === "" ? "" : ` (${detail})`}`;
  if (isTransientStatus(status)) {
    return { kind: "retry", reason, status, retryAfterMs: retryAfterMs(result.headers) };
  }
  return { kind: "fail", reason, status };
}

function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** "Full jitter": uniformly random in `[0, min(maxDelayMs, baseDelayMs * 2^retry))`. */
export function backoffDelay(retry: number, http: ResolvedHttpOptions, random: () => number = Math.random) {
  return random() * Math.min(http.maxDelayMs, http.baseDelayMs * 2 ** Math.min(retry, 30));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it creates the run, finds it already there, is refused, or the attempts
 * run out; transient failures wait {@link backoffDelay} (at least the server's `Retry-After`,
 * capped at `maxDelayMs`) before the next attempt.
 */
export async function withRetries(
  http: ResolvedHttpOptions,
  dagId: string,
  runId: string,
  attempt: () => Promise<Outcome>,
): Promise<{ readonly created: boolean }> {
  for (let n = 1; ; n++) {
    const outcome = await attempt();
    if (outcome.kind === "created") return { created: true };
    if (outcome.kind === "duplicate") return { created: false };
    if (outcome.kind === "fail") {
      throw new DagTriggerError(
        "dag_trigger_failed",
        `triggering DAG '${dagId}' run '${runId}' failed: ${outcome.reason}`,
        {
          dagId,
          runId,
          status: outcome.status,
          attempts: n,
          transient: false,
        },
      );
    }
    if (n >= http.maxAttempts) {
      throw new DagTriggerError(
        "dag_trigger_failed",
        `triggering DAG '${dagId}' run '${runId}' failed after ${n} attempt${n === 1 ? "" : "s"}: ${outcome.reason}`,
        { dagId, runId, status: outcome.status, attempts: n, transient: true, cause: outcome.cause },
      );
    }
    const delay = Math.max(backoffDelay(n - 1, http), Math.min(outcome.retryAfterMs ?? 0, http.maxDelayMs));
    await sleep(delay);
  }
}
