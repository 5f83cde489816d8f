import type { LogFields } from "@musicpipe/core";
import { expectMethods } from "../powertools-shape.js";
import type { LambdaContextLike, LambdaContextLogger } from "./context.js";
import { cleanLogFields } from "./logger.js";

/**
 * The methods of a Powertools for AWS Lambda `Logger` (`@aws-lambda-powertools/logger`, v2)
 * that {@link fromPowertoolsLogger} calls. Written out here so that `@musicpipe/aws` needs
 * no Powertools at run time or in its types: a Powertools `Logger` is one of these.
 */
export interface PowertoolsLoggerLike {
  /** Writes a `DEBUG` line with `message` and the attributes as extra keys. */
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  /** Writes an `INFO` line. */
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  /** Writes a `WARN` line. */
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  /** Writes an `ERROR` line. */
  error(message: string, ...attributes: Record<string, unknown>[]): void;
  /** Puts the invocation's context (`cold_start`, `function_*`) on the following lines. */
  addContext(context: LambdaContextLike): void;
}

/** The {@link LambdaContextLogger} made by {@link fromPowertoolsLogger}. */
export interface PowertoolsLoggerAdapter extends LambdaContextLogger {
  /** A logger writing through the same Powertools `Logger`, with `fields` on every line. */
  child(fields: LogFields): PowertoolsLoggerAdapter;
  /**
   * Calls the Powertools `Logger`'s `addContext(context)` (which works out `cold_start` its
   * own way, as its `injectLambdaContext` does) and returns this logger.
   */
  withLambdaContext(context: LambdaContextLike): PowertoolsLoggerAdapter;
  /** The Powertools `Logger` the lines are written through. */
  readonly powertools: PowertoolsLoggerLike;
}

const METHODS = ["debug", "info", "warn", "error", "addContext"] as const;

/**
 * Our `Logger` port (a {@link LambdaContextLogger}) on top of a Powertools for AWS Lambda `Logger`, for a function that
 * already configures one (its service, log level, sampling, buffering, formatter, persistent
 * keys): musicpipe's lines then come out of your logger, in its format.
 *
 * - `debug`, `info`, `warn`, `error` call the Powertools method of the same name with the
 *   message and the fields as extra keys. The fields are cleaned first, as
 *   `createJsonLogger` cleans them: **user-name fields are dropped at any depth before they
 *   reach Powertools**, errors become plain `{ name, location, message, stack, cause, ... }`
 *   objects, and fields named like a standard key (`level`, `service`, `function_name`, ...)
 *   are dropped rather than replacing it.
 * - `child(fields)` adds fields to every line by passing them with each call: the Powertools
 *   `Logger` is never changed (no `appendKeys`), and no `createChild` runs per invocation.
 * - `withLambdaContext(context)`, which the stage and trigger handlers call once per
 *   invocation, is Powertools' `addContext(context)`: `cold_start`, `function_arn`,
 *   `function_memory_size`, `function_name` and `function_request_id` on the lines.
 *
 * Logging never throws: a Powertools call that throws is ignored. The function is typed
 * structurally ({@link PowertoolsLoggerLike}); `@musicpipe/aws` does not depend on Powertools.
 *
 * @example
 * ```ts
 * import { Logger } from "@aws-lambda-powertools/logger";
 * import { createStageHandler, fromPowertoolsLogger } from "@musicpipe/aws/lambda";
 *
 * export const handler = createStageHandler({
 *   logger: fromPowertoolsLogger(new Logger({ serviceName: "musicpipe-stages" })),
 * });
 * ```
 */
export function fromPowertoolsLogger(logger: PowertoolsLoggerLike): PowertoolsLoggerAdapter {
  expectMethods("fromPowertoolsLogger", "a Powertools Logger", logger, METHODS);
  return adapter(logger, {});
}

type Level = "debug" | "info" | "warn" | "error";

function adapter(logger: PowertoolsLoggerLike, fields: LogFields): PowertoolsLoggerAdapter {
  const emit = (level: Level, message: string, extra: LogFields | undefined) => {
    let attributes: Record<string, unknown>;
    try {
      attributes = cleanLogFields({ ...fields, ...extra });
    } catch (error) {
      try {
        logger.error("log line could not be serialised", {
          original: { level: level.toUpperCase(), message: String(message) },
          error: error instanceof Error ? error.message : String(error),
        });
      } catch {
        // Logging never throws.
      }
      return;
    }
    try {
      if (Object.keys(attributes).length === 0) logger[level](String(message));
      else logger[level](String(message), attributes);
    } catch {
      // Logging never throws.
    }
  };
  const self: PowertoolsLoggerAdapter = {
    powertools: logger,
    debug: (message, extra) => emit("debug", message, extra),
    info: (message, extra) => emit("info", message, extra),
    warn: (message, extra) => emit("warn", message, extra),
    error: (message, extra) => emit("error", message, extra),
    child: (more) => adapter(logger, { ...fields, ...more }),
    withLambdaContext(context) {
      try {
        logger.addContext(context);
      } catch {
        // A context Powertools refuses leaves the lines without it.
      }
      return self;
    },
  };
  return self;
}
