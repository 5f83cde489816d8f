// The structured JSON logger: one object per line in Powertools for AWS Lambda's shape, levels,
// fields, the Lambda context, and no user names ever.
import { createJsonLogger, isUserNameField, logLevelFrom } from "@musicpipe/aws/lambda";
import { ConfigurationError } from "@musicpipe/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearLambdaEnv, LAMBDA_CONTEXT, TRACE_HEADER } from "./lambda-fixtures.js";

function recorder(options: Parameters<typeof createJsonLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createJsonLogger({
    now: () => new Date("2025-06-22T10:00:00.000Z"),
    ...options,
    write: (line) => lines.push(line),
  });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, parsed };
}

beforeEach(() => clearLambdaEnv());
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("createJsonLogger", () => {
  it("writes one JSON object per line: level, message, timestamp, service, sampling_rate, then fields", () => {
    const { logger, lines, parsed } = recorder({ service: "musicpipe-stages", base: { version: "1.2" } });
    logger.info("file validated", { fileKey: "data/raw/streams/s1.csv", runId: "r1", rows: 12 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("}\n")).toBe(true);
    expect(lines[0]).toBe(
      '{"level":"INFO","message":"file validated","timestamp":"2025-06-22T10:00:00.000Z","service":"musicpipe-stages","sampling_rate":0,"version":"1.2","fileKey":"data/raw/streams/s1.csv","runId":"r1","rows":12}\n',
    );
    expect(parsed()[0]?.level).toBe("INFO");
  });

  it("adds the Lambda context in Powertools' places, cold_start true for the first invocation only", () => {
    vi.stubEnv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    vi.stubEnv("_X_AMZN_TRACE_ID", TRACE_HEADER);
    const { logger, lines, parsed } = recorder({ service: "musicpipe-stages" });
    logger
      .withLambdaContext(LAMBDA_CONTEXT)
      .child({ stage: "validate" })
      .info("stage finished", { status: "SUCCESS" });
    logger.withLambdaContext({ ...LAMBDA_CONTEXT, awsRequestId: "req-2" }).warn("second");
    expect(lines[0]).toBe(
      '{"level":"INFO","message":"stage finished","timestamp":"2025-06-22T10:00:00.000Z","service":"musicpipe-stages",' +
        '"cold_start":true,"function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:musicpipe-stages",' +
        '"function_memory_size":"1024","function_name":"musicpipe-stages",' +
        '"function_request_id":"c6af9ac6-7b61-11e6-9a41-93e812345678","sampling_rate":0,' +
        '"xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793","stage":"validate","status":"SUCCESS"}\n',
    );
    expect(parsed()[1]).toMatchObject({ level: "WARN", cold_start: false, function_request_id: "req-2" });
    // Without a context, the line has no Lambda keys, but still the trace id of the invocation.
    logger.info("outside");
    expect(Object.keys(parsed()[2]!)).toEqual([
      "level",
      "message",
      "timestamp",
      "service",
      "sampling_rate",
      "xray_trace_id",
    ]);
  });

  it("has no cold start with provisioned concurrency, SnapStart or outside Lambda (as Powertools)", () => {
    for (const type of ["provisioned-concurrency", "snap-start", ""]) {
      vi.stubEnv("AWS_LAMBDA_INITIALIZATION_TYPE", type);
      const { logger, parsed } = recorder();
      logger.withLambdaContext(LAMBDA_CONTEXT).info("first");
      expect(parsed()[0]?.cold_start, type).toBe(false);
    }
  });

  it("reads the service, level and sampling rate from Powertools' variables", () => {
    vi.stubEnv("POWERTOOLS_SERVICE_NAME", "from-env");
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "DEBUG");
    vi.stubEnv("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.25");
    const logger = createJsonLogger({ write: () => {} });
    expect([logger.service, logger.level, logger.sampleRate]).toEqual(["from-env", "debug", 0.25]);
    // Lambda's own level (advanced logging controls) comes first: it drops lower lines anyway.
    vi.stubEnv("AWS_LAMBDA_LOG_LEVEL", "WARN");
    expect(createJsonLogger().level).toBe("warn");
    // Options win over the variables.
    expect(createJsonLogger({ service: "mine", level: "error" })).toMatchObject({
      service: "mine",
      level: "error",
    });
    vi.unstubAllEnvs();
    vi.stubEnv("POWERTOOLS_SERVICE_NAME", "");
    expect(createJsonLogger().service).toBe("musicpipe");
  });

  it("logs a sampled invocation at debug, whatever its level", () => {
    const sampled = recorder({ sampleRate: 1 });
    sampled.logger.debug("hidden outside an invocation");
    sampled.logger.withLambdaContext(LAMBDA_CONTEXT).debug("shown");
    expect(sampled.parsed()).toEqual([
      expect.objectContaining({ level: "DEBUG", message: "shown", sampling_rate: 1 }),
    ]);
    const never = recorder({ sampleRate: 0 });
    never.logger.withLambdaContext(LAMBDA_CONTEXT).debug("hidden");
    expect(never.lines).toEqual([]);
  });

  it("drops fields named like a user name, at any depth and in any spelling", () => {
    const { logger, lines, parsed } = recorder({ base: { user_name: "Base Person" } });
    logger.warn("row issue", {
      user_id: "u1",
      user_name: "Ann Example",
      userName: "Ann",
      UserName: "Ann",
      "user-names": ["Ann", "Bob"],
      row: { user_id: "u2", user_name: "Bob Example", nested: [{ userName: "Cy" }] },
      error: Object.assign(new Error("bad row"), { userName: "Quinn" }),
    });
    logger.withLambdaContext(LAMBDA_CONTEXT).child({ UserName: "Zed" }).info("child");
    expect(lines.join("")).not.toMatch(/Ann|Bob|Cy|Quinn|Zed|Base Person|user_?name/i);
    expect(parsed()[0]).toMatchObject({ user_id: "u1", row: { user_id: "u2", nested: [{}] } });
    expect(["user_name", "userName", "USER_NAME", "user-name", "user_names"].every(isUserNameField)).toBe(
      true,
    );
    expect(["user_id", "name", "username_hash_of_something", "track_name"].some(isUserNameField)).toBe(false);
  });

  it("writes levels at or above its own (info by default)", () => {
    const { logger, parsed } = recorder();
    logger.debug("hidden");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(parsed().map((l) => l.level)).toEqual(["INFO", "WARN", "ERROR"]);
    const quiet = recorder({ level: "error" });
    quiet.logger.warn("w");
    quiet.logger.error("e");
    expect(quiet.parsed().map((l) => l.message)).toEqual(["e"]);
    const verbose = recorder({ level: "debug" });
    verbose.logger.debug("d");
    expect(verbose.parsed()).toEqual([expect.objectContaining({ level: "DEBUG" })]);
  });

  it("makes children with more fields; fields cannot replace the standard keys, empty ones are left out", () => {
    const { logger, parsed } = recorder({ service: "stages" });
    const child = logger.child({ fileKey: "k.csv", runId: "r1" });
    child.child({ stage: "load" }).error("boom", {
      level: "debug",
      message: "other",
      timestamp: "then",
      service: "else",
      cold_start: true,
      function_name: "impostor",
      xray_trace_id: "1-2-3",
      etag: "",
      movedTo: null,
      runId: undefined,
    });
    expect(parsed()[0]).toEqual({
      level: "ERROR",
      message: "boom",
      timestamp: "2025-06-22T10:00:00.000Z",
      service: "stages",
      sampling_rate: 0,
      fileKey: "k.csv",
      stage: "load",
    });
  });

  it("writes errors as Powertools does, bigints, dates and cycles as JSON, and never throws", () => {
    const { logger, parsed } = recorder();
    const cause = new Error("socket hang up");
    const error = Object.assign(new Error("S3 GetObject failed", { cause }), { code: "s3_error" });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    logger.error("stage failed", { error, big: 10n, at: new Date(0), cyclic, fn: () => 1 });
    const line = parsed()[0]!;
    expect(Object.keys(line.error as object)).toEqual([
      "name",
      "location",
      "message",
      "stack",
      "cause",
      "code",
    ]);
    expect(line.error).toMatchObject({
      name: "Error",
      // The first "(file:line:column)" of the stack, as Powertools reads it.
      location: expect.stringMatching(/^\S+:\d+$/),
      message: "S3 GetObject failed",
      code: "s3_error",
      cause: { name: "Error", message: "socket hang up" },
    });
    expect(line).toMatchObject({
      big: "10",
      at: "1970-01-01T00:00:00.000Z",
      cyclic: { a: 1, self: "[Circular]" },
    });
    expect("fn" in line).toBe(false);
    const hostile = {
      get boom() {
        throw new Error("getter");
      },
    };
    expect(() => logger.info("hostile", { hostile })).not.toThrow();
    expect(parsed()[1]).toMatchObject({
      level: "ERROR",
      message: "log line could not be serialised",
      original: { level: "INFO", message: "hostile" },
    });
  });

  it("checks its options at construction", () => {
    expect(() => createJsonLogger({ level: "verbose" as never })).toThrow(ConfigurationError);
    expect(() => createJsonLogger({ base: "x" as never })).toThrow(/'base'/);
    expect(() => createJsonLogger({ base: { service: "old-style" } })).toThrow(/'service' option/);
    expect(() => createJsonLogger({ base: { time: "t", timestamp: "t" } })).toThrow(/'timestamp'/);
    expect(() => createJsonLogger({ service: "" })).toThrow(/'service'/);
    expect(() => createJsonLogger({ sampleRate: 2 })).toThrow(/'sampleRate'/);
    expect(() => createJsonLogger({ write: 1 as never })).toThrow(/'write'/);
  });

  it("reads Lambda's and Powertools' log level names", () => {
    expect(logLevelFrom("TRACE")).toBe("debug");
    expect(logLevelFrom("DEBUG")).toBe("debug");
    expect(logLevelFrom("WARN")).toBe("warn");
    expect(logLevelFrom("FATAL")).toBe("error");
    expect(logLevelFrom("CRITICAL")).toBe("error");
    expect(logLevelFrom(undefined)).toBe("info");
    expect(logLevelFrom("loud", "warn")).toBe("warn");
  });
});
