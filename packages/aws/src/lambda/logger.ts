import { ConfigurationError, type LogFields } from "@musicpipe/core";
import { serviceFromEnv } from "../service-name.js";
import { type LambdaContextLike, type LambdaContextLogger, startedOnDemand, xrayTraceId } from "./context.js";

/** Log levels, least severe first. Lines spell them in upper case (`"INFO"`), as Powertools does. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
const LINE_LEVEL: Readonly<Record<LogLevel, string>> = {
  debug: "DEBUG",
  info: "INFO",
  warn: "WARN",
  error: "ERROR",
};

/** The service of a logger without a `service` option and without `POWERTOOLS_SERVICE_NAME`. */
const DEFAULT_SERVICE = "musicpipe";

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /**
   * The `service` of every line.
   * @default `POWERTOOLS_SERVICE_NAME` when set, else `"musicpipe"`
   */
  readonly service?: string | undefined;
  /**
   * Fields on every line, after the standard keys (function version, deployment, ...).
   * User-name fields are dropped; the standard keys (`level`, `message`, `timestamp`,
   * `service`, `cold_start`, `function_*`, `sampling_rate`, `xray_trace_id`, `tenant_id`)
   * cannot be set here (a {@link ConfigurationError}: use `service` for the service).
   */
  readonly base?: LogFields | undefined;
  /**
   * Receives each line: one JSON object followed by `"\n"`. In Lambda, standard output goes to
   * CloudWatch Logs.
   * @default (line) => process.stdout.write(line)
   */
  readonly write?: ((line: string) => void) | undefined;
  /**
   * The least severe level written.
   * @default from `AWS_LAMBDA_LOG_LEVEL` (Lambda's own filter), else `POWERTOOLS_LOG_LEVEL`, else `"info"`
   */
  readonly level?: LogLevel | undefined;
  /**
   * The share of invocations (0 to 1) logged at `debug` whatever `level` says, decided at each
   * {@link JsonLogger.withLambdaContext}; written as `sampling_rate` on every line.
   * @default `POWERTOOLS_LOGGER_SAMPLE_RATE` when it is a number from 0 to 1, else 0
   */
  readonly sampleRate?: number | undefined;
  /** The time of each line. @default () => new Date() */
  readonly now?: (() => Date) | undefined;
}

/** A {@link LambdaContextLogger} that can make loggers with more fields. */
export interface JsonLogger extends LambdaContextLogger {
  /** A logger writing to the same place at the same level, with `fields` on every line. */
  child(fields: LogFields): JsonLogger;
  /**
   * A logger with the same fields whose lines also carry the invocation's `cold_start`,
   * `function_arn`, `function_memory_size`, `function_name`, `function_request_id` (and
   * `tenant_id`), in the place Powertools puts them. See
   * {@link LambdaContextLogger.withLambdaContext} for `cold_start`.
   */
  withLambdaContext(context: LambdaContextLike): JsonLogger;
  /** The least severe level written (`debug` for an invocation picked by `sampleRate`). */
  readonly level: LogLevel;
  /** The `service` of every line. */
  readonly service: string;
  /** The `sampling_rate` of every line. */
  readonly sampleRate: number;
}

/** `true` for `user_name`, `userName`, `UserName`, `user-name`, `user_names`, ... */
export function isUserNameField(name: string): boolean {
  const folded = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  return folded === "username" || folded === "usernames";
}

/**
 * The keys of a line that the logger writes and fields cannot replace: Powertools for AWS
 * Lambda's standard keys, in its order.
 */
export const STANDARD_LOG_KEYS: readonly string[] = [
  "level",
  "message",
  "timestamp",
  "service",
  "cold_start",
  "function_arn",
  "function_memory_size",
  "function_name",
  "function_request_id",
  "sampling_rate",
  "xray_trace_id",
  "tenant_id",
];
const RESERVED = new Set(STANDARD_LOG_KEYS);
const MAX_DEPTH = 8;
/** Members of an error written first, in this order (then its own other fields), as Powertools does. */
const ERROR_KEYS = new Set(["name", "message", "stack", "cause"]);

/** Where an error was thrown: the first `(file:line:column)` of its stack, as `file:line`. */
function codeLocation(stack: string | undefined): string {
  if (typeof stack !== "string") return "";
  for (const line of stack.split("\n")) {
    const match = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(line);
    if (match !== null) return `${match[1]}:${Number(match[2])}`;
  }
  return "";
}

/**
 * A JSON-safe copy of `value` without user-name fields at any depth: errors become
 * `{ name, location, message, stack, cause, ...their other fields }` (Powertools' shape),
 * bigints strings, dates ISO strings, cycles `"[Circular]"`.
 */
function scrub(value: unknown, ancestors: object[]): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (typeof value !== "object" || value === null) return value;
  if (ancestors.includes(value)) return "[Circular]";
  if (ancestors.length >= MAX_DEPTH) return "[Object]";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  const inner = [...ancestors, value];
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      name: value.name,
      location: codeLocation(value.stack),
      message: value.message,
    };
    if (value.stack !== undefined) out.stack = value.stack;
    const cause = scrub(value.cause, inner);
    if (cause !== undefined) out.cause = cause;
    for (const [key, item] of Object.entries(value)) {
      if (ERROR_KEYS.has(key) || isUserNameField(key)) continue;
      const clean = scrub(item, inner);
      if (clean !== undefined) out[key] = clean;
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, inner) ?? null);
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return scrub((value as { toJSON(): unknown }).toJSON(), inner);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (isUserNameField(key)) continue;
    const clean = scrub(item, inner);
    if (clean !== undefined) out[key] = clean;
  }
  return out;
}

/**
 * The fields of a line as they may be written: a JSON-safe copy without user-name fields (at
 * any depth), without the {@link STANDARD_LOG_KEYS}, and without the empty values (`undefined`,
 * `null`, `""`) Powertools leaves out. Throws when a value cannot be read (a getter that throws).
 * @internal
 */
export function cleanLogFields(fields: LogFields): Record<string, unknown> {
  const clean = scrub(fields, []) as Record<string, unknown>;
  for (const key of Object.keys(clean)) {
    if (RESERVED.has(key) || isEmpty(clean[key])) delete clean[key];
  }
  return clean;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

function defaultWrite(line: string): void {
  process.stdout.write(line);
}

function sampleRateFromEnv(): number {
  const value = process.env.POWERTOOLS_LOGGER_SAMPLE_RATE?.trim();
  if (value === undefined || value === "") return 0;
  const rate = Number(value);
  return Number.isFinite(rate) && rate >= 0 && rate <= 1 ? rate : 0;
}

/**
 * A logger (the `Logger` port of `@musicpipe/core`, and a {@link LambdaContextLogger}) writing
 * one JSON object per line in the shape of Powertools for AWS Lambda's `Logger`: `level`
 * (`"INFO"`), `message`, `timestamp`, `service`, then, in a Lambda invocation
 * ({@link JsonLogger.withLambdaContext}), `cold_start`, `function_arn`, `function_memory_size`,
 * `function_name`, `function_request_id`, then `sampling_rate`, `xray_trace_id` (from
 * `_X_AMZN_TRACE_ID`, when set), then the `base` fields, the `child` fields and the call's
 * fields. Those cannot replace the standard keys, and empty values (`undefined`, `null`, `""`)
 * are left out, as Powertools does.
 *
 * Structured logs carry the file key and run id; they never carry user names: any field
 * named like one (`user_name`, `userName`, `user-names`, at any depth) is dropped before the
 * line is written, as a last line of defence.
 *
 * Errors given as fields are written as Powertools writes them: `name`, `location`,
 * `message`, `stack`, `cause`, then their own fields (such as `code`). A line that cannot be
 * serialised (a getter that throws) is replaced by an `ERROR` line saying so: logging never
 * throws.
 *
 * Options are checked at construction ({@link ConfigurationError}).
 *
 * @example
 * import { createJsonLogger } from "@musicpipe/aws/lambda";
 *
 * const logger = createJsonLogger({ service: "musicpipe-stages", level: "info" });
 * logger.child({ fileKey: "data/raw/streams/s1.csv", runId: "r1" }).info("file validated", { rows: 1200 });
 * // {"level":"INFO","message":"file validated","timestamp":"...","service":"musicpipe-stages","sampling_rate":0,"fileKey":"data/raw/streams/s1.csv","runId":"r1","rows":1200}
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const where = "createJsonLogger";
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError(`${where}: options must be an object`);
  }
  const env = process.env;
  const level =
    options.level ?? logLevelFrom(env.AWS_LAMBDA_LOG_LEVEL, logLevelFrom(env.POWERTOOLS_LOG_LEVEL, "info"));
  if (!LEVELS.includes(level)) {
    throw new ConfigurationError(
      `${where}: 'level' must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(level)}`,
    );
  }
  const service = options.service ?? serviceFromEnv(DEFAULT_SERVICE);
  if (typeof service !== "string" || service.trim() === "") {
    throw new ConfigurationError(`${where}: 'service' must be a non-empty string`);
  }
  const base = options.base ?? {};
  if (typeof base !== "object" || base === null || Array.isArray(base)) {
    throw new ConfigurationError(`${where}: 'base' must be an object of fields`);
  }
  const taken = Object.keys(base).filter((key) => RESERVED.has(key));
  if (taken.length > 0) {
    throw new ConfigurationError(
      `${where}: 'base' cannot set ${taken.map((k) => `'${k}'`).join(", ")}: the logger writes ${STANDARD_LOG_KEYS.join(", ")}${taken.includes("service") ? " (use the 'service' option)" : ""}`,
    );
  }
  const sampleRate = options.sampleRate ?? sampleRateFromEnv();
  if (typeof sampleRate !== "number" || !(sampleRate >= 0 && sampleRate <= 1)) {
    throw new ConfigurationError(
      `${where}: 'sampleRate' must be a number from 0 to 1, got ${String(sampleRate)}`,
    );
  }
  const write = options.write ?? defaultWrite;
  if (typeof write !== "function") throw new ConfigurationError(`${where}: 'write' must be a function`);
  const now = options.now ?? (() => new Date());
  if (typeof now !== "function") throw new ConfigurationError(`${where}: 'now' must be a function`);
  const setup: Setup = { service, sampleRate, write, now, coldStart: { pending: startedOnDemand() } };
  return make(setup, level, base, undefined);
}

interface Setup {
  readonly service: string;
  readonly sampleRate: number;
  readonly write: (line: string) => void;
  readonly now: () => Date;
  /** Shared by a logger and every logger made from it: the first context given takes the cold start. */
  readonly coldStart: { pending: boolean };
}

/** The Lambda context fields of a line, in Powertools' order. */
interface ContextFields {
  readonly cold_start: boolean;
  readonly function_arn: unknown;
  readonly function_memory_size: unknown;
  readonly function_name: unknown;
  readonly function_request_id: unknown;
  readonly tenant_id: unknown;
}

/** A context value as written: strings and numbers only (the runtime passes nothing else). */
function contextValue(value: unknown): string | number | undefined {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value))
    ? value
    : undefined;
}

function make(
  setup: Setup,
  level: LogLevel,
  base: LogFields,
  context: ContextFields | undefined,
): JsonLogger {
  const threshold = LEVELS.indexOf(level);
  const head = (lineLevel: string, message: string, timestamp: string): Record<string, unknown> => ({
    level: lineLevel,
    message,
    timestamp,
    service: setup.service,
    cold_start: context?.cold_start,
    function_arn: context?.function_arn,
    function_memory_size: context?.function_memory_size,
    function_name: context?.function_name,
    function_request_id: context?.function_request_id,
    sampling_rate: setup.sampleRate,
    xray_trace_id: xrayTraceId(),
    tenant_id: context?.tenant_id,
  });
  const emit = (lineLevel: LogLevel, message: string, fields: LogFields | undefined) => {
    if (LEVELS.indexOf(lineLevel) < threshold) return;
    const timestamp = setup.now().toISOString();
    let line: string;
    try {
      const clean = cleanLogFields({ ...base, ...fields });
      line = JSON.stringify(
        withoutEmpty({ ...head(LINE_LEVEL[lineLevel], String(message), timestamp), ...clean }),
      );
    } catch (error) {
      line = JSON.stringify(
        withoutEmpty({
          ...head("ERROR", "log line could not be serialised", timestamp),
          original: { level: LINE_LEVEL[lineLevel], message: String(message) },
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    }
    setup.write(`${line}\n`);
  };
  return {
    level,
    service: setup.service,
    sampleRate: setup.sampleRate,
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => make(setup, level, { ...base, ...fields }, context),
    withLambdaContext(lambdaContext) {
      const coldStart = setup.coldStart.pending;
      setup.coldStart.pending = false;
      const c = typeof lambdaContext === "object" && lambdaContext !== null ? lambdaContext : {};
      const sampled = setup.sampleRate > 0 && Math.random() < setup.sampleRate;
      return make(setup, sampled ? "debug" : level, base, {
        cold_start: coldStart,
        function_arn: contextValue(c.invokedFunctionArn),
        function_memory_size: contextValue(c.memoryLimitInMB),
        function_name: contextValue(c.functionName),
        function_request_id: contextValue(c.awsRequestId),
        tenant_id: contextValue(c.tenantId),
      });
    },
  };
}

function withoutEmpty(line: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(line)) if (isEmpty(line[key])) delete line[key];
  return line;
}

/**
 * A level from an environment value such as `AWS_LAMBDA_LOG_LEVEL` or `POWERTOOLS_LOG_LEVEL`
 * (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `CRITICAL`, `FATAL`, any case), or `fallback`
 * when it is empty or unknown.
 */
export function logLevelFrom(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  const v = value?.trim().toLowerCase();
  if (v === "trace" || v === "debug") return "debug";
  if (v === "info" || v === "warn" || v === "error") return v;
  if (v === "fatal" || v === "critical") return "error";
  return fallback;
}
