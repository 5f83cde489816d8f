// Shared by the logger, metrics and handler tests: a Lambda context as the runtime passes it,
// the variables Powertools and our logger read, and a capture of what reaches stdout/stderr.
import { vi } from "vitest";

/** A Lambda context as the Node.js runtime passes it (the part the loggers read, and more). */
export const LAMBDA_CONTEXT = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "musicpipe-stages",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:musicpipe-stages",
  memoryLimitInMB: "1024",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  logGroupName: "/aws/lambda/musicpipe-stages",
  logStreamName: "2025/06/22/[$LATEST]abcdef",
};

/** `_X_AMZN_TRACE_ID` as Lambda sets it, and the trace id Powertools reads from it. */
export const TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1";
export const TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793";

/** Unsets every variable the loggers and metrics read (undo with `vi.unstubAllEnvs()`). */
export function clearLambdaEnv(): void {
  for (const name of [
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_LOGGER_SAMPLE_RATE",
    "POWERTOOLS_LOGGER_LOG_EVENT",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_METRICS_DISABLED",
    "POWERTOOLS_DEV",
    "LOG_LEVEL",
    "AWS_LAMBDA_LOG_LEVEL",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "_X_AMZN_TRACE_ID",
    "TZ",
  ])
    vi.stubEnv(name, undefined);
}

/**
 * Captures what is written to stdout and stderr (Powertools writes through its own `Console`
 * on them) until `restore()`, and lets nothing through.
 */
export function captureStdio() {
  const written: { stream: "stdout" | "stderr"; text: string }[] = [];
  const spies = (["stdout", "stderr"] as const).map((stream) =>
    vi.spyOn(process[stream], "write").mockImplementation(((chunk: string | Uint8Array) => {
      written.push({ stream, text: typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8") });
      return true;
    }) as never),
  );
  /** Every JSON line written, parsed, in order. */
  const json = () =>
    written
      .flatMap((w) => w.text.split("\n"))
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    written,
    json,
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
