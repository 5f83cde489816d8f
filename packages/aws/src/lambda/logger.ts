import { ConfigurationError, type LogFields, type Logger } from "@musicpipe/core";

/** Log levels, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Fields on every line (service name, function version, ...). User-name fields are dropped. */
  readonly base?: LogFields | undefined;
  /**
   * Receives each line: one JSON object followed by `"\n"`. In Lambda, standard output goes to
   * CloudWatch Logs.
   * @default (line) => process.stdout.write(line)
   */
  readonly write?: ((line: string) => void) | undefined;
  /**
   * The least severe level written.
   * @default "info"
   */
  readonly level?: LogLevel | undefined;
  /** The time of each line. @default () => new Date() */
  readonly now?: (() => Date) | undefined;
}

/** A {@link Logger} that can make loggers with more fields. */
export interface JsonLogger extends Logger {
  /** A logger writing to the same place at the same level, with `fields` on every line. */
  child(fields: LogFields): JsonLogger;
  /** The least severe level written. */
  readonly level: LogLevel;
}

/** `true` for `user_name`, `userName`, `UserName`, `user-name`, `user_names`, ... */
export function isUserNameField(name: string): boolean {
  const folded = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  return folded === "username" || folded === "usernames";
}

/** Keys of a line that fields cannot replace. */
const RESERVED = new Set(["level", "message", "time"]);
const MAX_DEPTH = 8;

/**
 * A JSON-safe copy of `value` without user-name fields at any depth: errors become
 * `{ name, message, code?, stack? }`, bigints strings, cycles `"[Circular]"`.
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
    const code = (value as { code?: unknown }).code;
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (typeof code === "string" || typeof code === "number") out.code = code;
    if (value.stack !== undefined) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = scrub(value.cause, inner);
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

function defaultWrite(line: string): void {
  process.stdout.write(line);
}

/**
 * A {@link Logger} writing one JSON object per line: `{"level","message","time",...fields}`,
 * with the `base` fields, then the call's fields (`level`, `message` and `time` cannot be
 * replaced by fields). Structured logs carry the file key and run id; they never carry user
 * names: any field named like one (`user_name`, `userName`, `user-names`, at any depth) is
 * dropped before the line is written, as a last line of defence.
 *
 * Errors given as fields are written with their name, message, code, stack and cause. A line
 * that cannot be serialised (a getter that throws) is replaced by an `error` line saying so:
 * logging never throws.
 *
 * @example
 * import { createJsonLogger } from "@musicpipe/aws/lambda";
 *
 * const logger = createJsonLogger({ base: { service: "musicpipe-stages" }, level: "info" });
 * logger.child({ fileKey: "data/raw/streams/s1.csv", runId: "r1" }).info("file validated", { rows: 1200 });
 * // {"level":"info","message":"file validated","time":"...","service":"musicpipe-stages","fileKey":"data/raw/streams/s1.csv","runId":"r1","rows":1200}
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const where = "createJsonLogger";
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError(`${where}: options must be an object`);
  }
  const level = options.level ?? "info";
  if (!LEVELS.includes(level)) {
    throw new ConfigurationError(
      `${where}: 'level' must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(level)}`,
    );
  }
  if (options.base !== undefined && (typeof options.base !== "object" || options.base === null)) {
    throw new ConfigurationError(`${where}: 'base' must be an object of fields`);
  }
  const write = options.write ?? defaultWrite;
  if (typeof write !== "function") throw new ConfigurationError(`${where}: 'write' must be a function`);
  const now = options.now ?? (() => new Date());
  if (typeof now !== "function") throw new ConfigurationError(`${where}: 'now' must be a function`);
  const threshold = LEVELS.indexOf(level);
  return make(level, threshold, write, now, options.base ?? {});
}

function make(
  level: LogLevel,
  threshold: number,
  write: (line: string) => void,
  now: () => Date,
  base: LogFields,
): JsonLogger {
  const emit = (lineLevel: LogLevel, message: string, fields: LogFields | undefined) => {
    if (LEVELS.indexOf(lineLevel) < threshold) return;
    const time = now().toISOString();
    let line: string;
    try {
      const clean = scrub({ ...base, ...fields }, []) as Record<string, unknown>;
      for (const key of RESERVED) delete clean[key];
      line = JSON.stringify({ level: lineLevel, message: String(message), time, ...clean });
    } catch (error) {
      line = JSON.stringify({
        level: "error",
        message: "log line could not be serialised",
        time,
        original: { level: lineLevel, message: String(message) },
        error: error instanceof Error ? error.message : String(error),
      });
    }
    write(`${line}\n`);
  };
  return {
    level,
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => make(level, threshold, write, now, { ...base, ...fields }),
  };
}

/**
 * A level from an environment value such as `AWS_LAMBDA_LOG_LEVEL` (`TRACE`, `DEBUG`, `INFO`,
 * `WARN`, `ERROR`, `FATAL`, any case), or `fallback` when it is empty or unknown.
 */
export function logLevelFrom(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  const v = value?.trim().toLowerCase();
  if (v === "trace" || v === "debug") return "debug";
  if (v === "info" || v === "warn" || v === "error") return v;
  if (v === "fatal") return "error";
  return fallback;
}
