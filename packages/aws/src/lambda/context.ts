import type { Logger } from "@musicpipe/core";

/**
 * The part of the Lambda context object the handlers read (all of it optional, so a test or a
 * local run can pass `{}` or nothing). The Lambda runtime passes the whole object; the
 * handlers give it to the logger, which puts these fields on every line of the invocation.
 */
export interface LambdaContextLike {
  /** The invocation's request id: `function_request_id` on log lines. */
  readonly awsRequestId?: string | undefined;
  /** `function_name` on log lines. */
  readonly functionName?: string | undefined;
  readonly functionVersion?: string | undefined;
  /** `function_arn` on log lines. */
  readonly invokedFunctionArn?: string | undefined;
  /** `function_memory_size` on log lines (the runtime passes a string, such as `"1024"`). */
  readonly memoryLimitInMB?: string | number | undefined;
  /** The tenant of a function with tenant isolation: `tenant_id` on log lines. */
  readonly tenantId?: string | undefined;
}

/**
 * A {@link Logger} that can put the Lambda invocation's context on its lines, the way
 * Powertools for AWS Lambda's `Logger.addContext` does. `createJsonLogger` and
 * `fromPowertoolsLogger` make such loggers; `createStageHandler` and `createS3TriggerHandler`
 * call {@link LambdaContextLogger.withLambdaContext} once per invocation. Any other
 * {@link Logger} works too: it then gets the request id as a `requestId` field instead.
 */
export interface LambdaContextLogger extends Logger {
  /**
   * The logger of one invocation: its lines carry `cold_start`, `function_arn`,
   * `function_memory_size`, `function_name` and `function_request_id` from `context`.
   * `cold_start` is `true` for the first invocation this logger is given, and only when the
   * execution environment was started on demand (`AWS_LAMBDA_INITIALIZATION_TYPE=on-demand`,
   * as Powertools reads it); `false` after that, with provisioned concurrency and SnapStart,
   * and outside Lambda.
   */
  withLambdaContext(context: LambdaContextLike): Logger;
}

/** `true` when `logger` has {@link LambdaContextLogger.withLambdaContext}. */
export function isLambdaContextLogger(logger: Logger): logger is LambdaContextLogger {
  return typeof (logger as Partial<LambdaContextLogger>).withLambdaContext === "function";
}

/** The context argument of a handler, when it is an object; `undefined` otherwise. */
export function lambdaContextOf(value: unknown): LambdaContextLike | undefined {
  return typeof value === "object" && value !== null ? (value as LambdaContextLike) : undefined;
}

/** The request id of a context argument, when it has one. */
export function requestIdOf(context: LambdaContextLike | undefined): string | undefined {
  const id = context?.awsRequestId;
  return typeof id === "string" && id.length > 0 ? id : undefined;
}

/**
 * The logger of one invocation: `logger.withLambdaContext(context)` when the logger takes the
 * Lambda context (`contextual: true`), the logger itself otherwise. Never throws: a logger
 * whose `withLambdaContext` fails is used as it is.
 */
export function invocationLogger(
  logger: Logger,
  context: unknown,
): { readonly log: Logger; readonly contextual: boolean } {
  if (!isLambdaContextLogger(logger)) return { log: logger, contextual: false };
  try {
    return { log: logger.withLambdaContext(lambdaContextOf(context) ?? {}), contextual: true };
  } catch {
    return { log: logger, contextual: false };
  }
}

/** `true` when this execution environment was started on demand (the only kind with cold starts). */
export function startedOnDemand(): boolean {
  return process.env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() === "on-demand";
}

interface InvokeStoreLike {
  getXRayTraceId?(): string | undefined;
}

/**
 * The X-Ray trace id of the current invocation, as Powertools reads it: the Lambda runtime's
 * invocation store when there is one, else `_X_AMZN_TRACE_ID`
 * (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;Sampled=1`), of which the `Root`.
 */
export function xrayTraceId(): string | undefined {
  let value: string | undefined;
  try {
    const store = (globalThis as { awslambda?: { InvokeStore?: InvokeStoreLike } }).awslambda?.InvokeStore;
    value = store?.getXRayTraceId?.();
  } catch {
    value = undefined;
  }
  value ??= process.env._X_AMZN_TRACE_ID;
  if (typeof value !== "string" || value === "") return undefined;
  if (!value.includes("=")) return value;
  for (const part of value.split(";")) {
    const [key, root] = part.split("=");
    if (key === "Root") return root === "" ? undefined : root;
  }
  return undefined;
}
