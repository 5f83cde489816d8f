// fromPowertoolsLogger against the real Powertools for AWS Lambda Logger (a dev dependency):
// what reaches its output through our Logger port, and that createJsonLogger writes the same
// shape by default.
import { Logger } from "@aws-lambda-powertools/logger";
import { createJsonLogger, fromPowertoolsLogger } from "@musicpipe/aws/lambda";
import { ConfigurationError, MusicpipeError } from "@musicpipe/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { STANDARD_LOG_KEYS } from "../../src/lambda/logger.js";
import { captureStdio, clearLambdaEnv, LAMBDA_CONTEXT, TRACE_HEADER, TRACE_ID } from "./lambda-fixtures.js";

let stdio: ReturnType<typeof captureStdio>;

beforeEach(() => {
  clearLambdaEnv();
  vi.stubEnv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
  vi.stubEnv("_X_AMZN_TRACE_ID", TRACE_HEADER);
  stdio = captureStdio();
});
afterEach(() => {
  stdio.restore();
  vi.unstubAllEnvs();
});

describe("fromPowertoolsLogger", () => {
  it("writes through the Powertools Logger: its keys, the fields as extra keys, the Lambda context", () => {
    const powertools = new Logger({ serviceName: "musicpipe-stages" });
    const logger = fromPowertoolsLogger(powertools);
    expect(logger.powertools).toBe(powertools);
    logger.info("before any invocation");
    const first = logger.withLambdaContext(LAMBDA_CONTEXT);
    first
      .child({ stage: "validate", fileKey: "data/raw/streams/s1.csv" })
      .info("stage finished", { status: "SUCCESS" });
    logger
      .withLambdaContext({ ...LAMBDA_CONTEXT, awsRequestId: "req-2" })
      .warn("second invocation", { runId: "r2" });
    const [outside, finished, second] = stdio.json();
    expect(outside).toEqual({
      level: "INFO",
      message: "before any invocation",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: "musicpipe-stages",
      sampling_rate: 0,
      xray_trace_id: TRACE_ID,
    });
    // Powertools' own order is the order createJsonLogger writes (no tenant here).
    expect(Object.keys(finished!)).toEqual([
      ...STANDARD_LOG_KEYS.filter((key) => key !== "tenant_id"),
      "stage",
      "fileKey",
      "status",
    ]);
    expect(finished).toMatchObject({
      level: "INFO",
      message: "stage finished",
      cold_start: true,
      function_arn: LAMBDA_CONTEXT.invokedFunctionArn,
      function_memory_size: "1024",
      function_name: "musicpipe-stages",
      function_request_id: LAMBDA_CONTEXT.awsRequestId,
      stage: "validate",
      status: "SUCCESS",
    });
    expect(second).toMatchObject({
      level: "WARN",
      message: "second invocation",
      cold_start: false,
      function_request_id: "req-2",
      runId: "r2",
    });
    // The child added its fields to its own lines only: the Powertools Logger is unchanged.
    expect("stage" in second!).toBe(false);
    expect(stdio.written.map((w) => w.stream)).toEqual(["stdout", "stdout", "stderr"]);
  });

  it("never lets a user-name field reach Powertools, at any depth, from a call, a child or an error", () => {
    const logger = fromPowertoolsLogger(new Logger({ serviceName: "musicpipe-stages" }));
    logger
      .withLambdaContext(LAMBDA_CONTEXT)
      .child({ userName: "Ann Example", user_id: "u1" })
      .error("row rejected", {
        user_name: "Bob Example",
        "user-names": ["Cy"],
        row: { user_id: "u2", UserName: "Quinn", nested: [{ user_name: "Zed" }] },
        error: Object.assign(new MusicpipeError("bad_row", "row 3 is bad"), { user_name: "Ivy" }),
      });
    const text = stdio.written.map((w) => w.text).join("");
    expect(text).not.toMatch(/Ann|Bob|Cy|Quinn|Zed|Ivy|user_?name/i);
    expect(stdio.json()[0]).toMatchObject({
      level: "ERROR",
      user_id: "u1",
      row: { user_id: "u2", nested: [{}] },
      error: { name: "MusicpipeError", message: "row 3 is bad", code: "bad_row" },
    });
  });

  it("writes errors as Powertools itself does", () => {
    const powertools = new Logger({ serviceName: "s" });
    const error = new MusicpipeError("s3_error", "S3 GetObject failed", {
      cause: new Error("socket hang up"),
    });
    fromPowertoolsLogger(powertools).error("ours", { error });
    powertools.error("theirs", { error });
    const [ours, theirs] = stdio.json();
    expect(ours?.error).toEqual(theirs?.error);
    expect(Object.keys(ours?.error as object)).toEqual(Object.keys(theirs?.error as object));
  });

  it("drops fields that would replace a standard key (Powertools would warn, or let them through)", () => {
    fromPowertoolsLogger(new Logger({ serviceName: "musicpipe-stages" }))
      .withLambdaContext(LAMBDA_CONTEXT)
      .info("stage finished", { service: "else", level: "DEBUG", function_name: "impostor", bucket: "b" });
    const lines = stdio.json();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: "musicpipe-stages",
      level: "INFO",
      function_name: "musicpipe-stages",
      bucket: "b",
    });
  });

  it("never throws, even when a field cannot be read or Powertools throws", () => {
    const logger = fromPowertoolsLogger(new Logger({ serviceName: "s" }));
    const hostile = {
      get boom() {
        throw new Error("getter");
      },
    };
    expect(() => logger.info("hostile", { hostile })).not.toThrow();
    expect(stdio.json()[0]).toMatchObject({
      level: "ERROR",
      message: "log line could not be serialised",
      original: { level: "INFO", message: "hostile" },
    });
    const throwing = fromPowertoolsLogger({
      debug() {},
      info() {
        throw new Error("closed");
      },
      warn() {},
      error() {},
      addContext() {
        throw new Error("bad context");
      },
    });
    expect(() => throwing.withLambdaContext({}).info("x")).not.toThrow();
  });

  it("refuses what is not a Powertools Logger", () => {
    expect(() => fromPowertoolsLogger(null as never)).toThrow(ConfigurationError);
    expect(() => fromPowertoolsLogger({ info() {} } as never)).toThrow(/addContext/);
  });
});

describe("createJsonLogger and a Powertools Logger", () => {
  it("write the same line for the same call: keys, order and values (but the time)", () => {
    const lines: string[] = [];
    const ours = createJsonLogger({ service: "musicpipe-stages", write: (line) => lines.push(line) });
    const theirs = fromPowertoolsLogger(new Logger({ serviceName: "musicpipe-stages" }));
    const error = Object.assign(new Error("S3 GetObject failed"), { code: "s3_error" });
    for (const logger of [ours, theirs]) {
      const log = logger
        .withLambdaContext(LAMBDA_CONTEXT)
        .child({ stage: "load", bucket: "music", runId: "r1" });
      log.info("stage finished", { status: "SUCCESS", rows: 5, dates: ["2025-06-22"], at: new Date(0) });
      log.error("stage failed", { code: "s3_error", error, big: 10n });
      logger.withLambdaContext({ ...LAMBDA_CONTEXT, awsRequestId: "req-2" }).warn("next", { skipped: null });
      logger.debug("not written at info");
    }
    const timeless = (line: Record<string, unknown>): Record<string, unknown> => ({
      ...line,
      timestamp: "T",
    });
    const mine = lines.map((l) => timeless(JSON.parse(l) as Record<string, unknown>));
    const powertools = stdio.json().map(timeless);
    expect(mine).toHaveLength(3);
    expect(mine).toEqual(powertools);
    expect(mine.map((l) => Object.keys(l))).toEqual(powertools.map((l) => Object.keys(l)));
    expect(mine.map((l) => [l.level, l.cold_start, l.xray_trace_id])).toEqual([
      ["INFO", true, TRACE_ID],
      ["ERROR", true, TRACE_ID],
      ["WARN", false, TRACE_ID],
    ]);
  });
});
