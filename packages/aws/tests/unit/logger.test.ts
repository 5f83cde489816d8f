// The structured JSON logger: one object per line, levels, fields, and no user names ever.
import { createJsonLogger, isUserNameField, logLevelFrom } from "@musicpipe/aws/lambda";
import { ConfigurationError } from "@musicpipe/core";
import { describe, expect, it } from "vitest";

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

describe("createJsonLogger", () => {
  it("writes one JSON object per line: level, message, time, then base and call fields", () => {
    const { logger, lines, parsed } = recorder({ base: { service: "stages" } });
    logger.info("file validated", { fileKey: "data/raw/streams/s1.csv", runId: "r1", rows: 12 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("}\n")).toBe(true);
    expect(lines[0]).toBe(
      '{"level":"info","message":"file validated","time":"2025-06-22T10:00:00.000Z","service":"stages","fileKey":"data/raw/streams/s1.csv","runId":"r1","rows":12}\n',
    );
    expect(parsed()[0]?.level).toBe("info");
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
    });
    expect(lines.join("")).not.toMatch(/Ann|Bob|Cy|Base Person|user_?name/i);
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
    expect(parsed().map((l) => l.level)).toEqual(["info", "warn", "error"]);
    const quiet = recorder({ level: "error" });
    quiet.logger.warn("w");
    quiet.logger.error("e");
    expect(quiet.parsed().map((l) => l.message)).toEqual(["e"]);
    const verbose = recorder({ level: "debug" });
    verbose.logger.debug("d");
    expect(verbose.parsed()).toHaveLength(1);
  });

  it("makes children with more fields, and fields cannot replace level, message or time", () => {
    const { logger, parsed } = recorder({ base: { service: "stages" } });
    const child = logger.child({ fileKey: "k.csv", runId: "r1" });
    child.child({ stage: "load" }).error("boom", { level: "debug", message: "other", time: "then" });
    expect(parsed()[0]).toEqual({
      level: "error",
      message: "boom",
      time: "2025-06-22T10:00:00.000Z",
      service: "stages",
      fileKey: "k.csv",
      runId: "r1",
      stage: "load",
    });
  });

  it("writes errors, bigints, dates and cycles as JSON and never throws", () => {
    const { logger, parsed } = recorder();
    const cause = new Error("socket hang up");
    const error = Object.assign(new Error("S3 GetObject failed", { cause }), { code: "s3_error" });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    logger.error("stage failed", { error, big: 10n, at: new Date(0), cyclic, fn: () => 1 });
    const line = parsed()[0]!;
    expect(line.error).toMatchObject({
      name: "Error",
      message: "S3 GetObject failed",
      code: "s3_error",
      cause: { message: "socket hang up" },
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
    expect(parsed()[1]).toMatchObject({ level: "error", message: "log line could not be serialised" });
  });

  it("checks its options at construction", () => {
    expect(() => createJsonLogger({ level: "verbose" as never })).toThrow(ConfigurationError);
    expect(() => createJsonLogger({ base: "x" as never })).toThrow(/'base'/);
    expect(() => createJsonLogger({ write: 1 as never })).toThrow(/'write'/);
  });

  it("reads Lambda's log level names", () => {
    expect(logLevelFrom("TRACE")).toBe("debug");
    expect(logLevelFrom("DEBUG")).toBe("debug");
    expect(logLevelFrom("WARN")).toBe("warn");
    expect(logLevelFrom("FATAL")).toBe("error");
    expect(logLevelFrom(undefined)).toBe("info");
    expect(logLevelFrom("loud", "warn")).toBe("warn");
  });
});
