import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DEFAULT_TABLE_NAMES } from "@musicpipe/aws/dynamodb";
import { describe, expect, it } from "vitest";
import { stageOptionsFromEnv, TABLE_VARIABLES } from "../src/config.js";

const BUNDLE = fileURLToPath(new URL("../dist/index.mjs", import.meta.url));

describe("the stage Lambda's configuration", () => {
  it("needs no variable at all", () => {
    const options = stageOptionsFromEnv({});
    expect(options.tableNames).toEqual({});
    expect(options.notifier).toBeUndefined();
    expect(options.allowedBuckets).toBeUndefined();
    expect(options.listenerShards).toBeUndefined();
    expect(options.logger).toBeDefined();
    expect(options.metrics).toBeDefined();
  });

  it("has a variable for every table the adapters use", () => {
    expect(Object.keys(TABLE_VARIABLES).sort()).toEqual(Object.keys(DEFAULT_TABLE_NAMES).sort());
  });

  it("reads table names, topic, namespace, prefix, buckets, threshold, shards and log level", () => {
    const options = stageOptionsFromEnv({
      MUSICPIPE_KPIS_TABLE: "Kpis-prod",
      MUSICPIPE_FILES_TABLE: "Files-prod",
      MUSICPIPE_DAY_STATES_TABLE: "DayStates-prod",
      MUSICPIPE_PARTIALS_TABLE: " ",
      MUSICPIPE_SNS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:musicpipe-failures",
      MUSICPIPE_METRICS_NAMESPACE: "Musicpipe/Prod",
      MUSICPIPE_S3_PREFIX: "tenant-a/",
      MUSICPIPE_ALLOWED_BUCKETS: "music-raw, music-replay",
      MUSICPIPE_MAX_BAD_ROW_SHARE: "0.05",
      MUSICPIPE_LISTENER_SHARDS: "8",
      AWS_LAMBDA_LOG_LEVEL: "DEBUG",
    });
    expect(options.tableNames).toEqual({
      kpis: "Kpis-prod",
      files: "Files-prod",
      dayStates: "DayStates-prod",
    });
    expect(typeof options.notifier?.notify).toBe("function");
    expect(options.prefix).toBe("tenant-a/");
    expect(options.allowedBuckets).toEqual(["music-raw", "music-replay"]);
    expect(options.validation).toEqual({ maxBadRowShare: 0.05 });
    expect(options.listenerShards).toBe(8);
    expect((options.logger as { level?: string }).level).toBe("debug");
  });

  it("fails at cold start on a malformed value", () => {
    expect(() => stageOptionsFromEnv({ MUSICPIPE_SNS_TOPIC_ARN: "musicpipe-failures" })).toThrow(/topicArn/);
    expect(() => stageOptionsFromEnv({ MUSICPIPE_METRICS_NAMESPACE: "AWS/Lambda" })).toThrow(/namespace/);
    expect(() => stageOptionsFromEnv({ MUSICPIPE_MAX_BAD_ROW_SHARE: "10%" })).toThrow(/MAX_BAD_ROW_SHARE/);
    for (const shards of ["0", "1.5", "-2", "4097", "many"])
      expect(() => stageOptionsFromEnv({ MUSICPIPE_LISTENER_SHARDS: shards })).toThrow(/LISTENER_SHARDS/);
  });
});

describe("docs/orchestration.md", () => {
  it("quotes the stage Lambda's entry point as it is", () => {
    const page = readFileSync(
      fileURLToPath(new URL("../../../docs/orchestration.md", import.meta.url)),
      "utf8",
    );
    const source = readFileSync(fileURLToPath(new URL("../src/index.ts", import.meta.url)), "utf8");
    // The fence may carry words after the language: ```ts file=examples/lambda-stages/src/index.ts
    const quoted = /```ts(?:[ \t][^\n]*)?\n([\s\S]*?)```/.exec(page)?.[1] ?? "";
    expect(quoted).toContain("createStageHandler(stageOptionsFromEnv(process.env))");
    expect(source.endsWith(quoted)).toBe(true);
  });
});

// The bundle exists once `pnpm build` ran (as `pnpm test` does first).
describe.skipIf(!existsSync(BUNDLE))("the bundled stage Lambda (dist/index.mjs)", () => {
  it("loads in plain Node and refuses a malformed event with a JSON log line", async () => {
    const script = `import(${JSON.stringify(BUNDLE)}).then(async ({ handler }) => {
      try { await handler({ stage: "deploy", bucket: "b", key: "data/raw/streams/a.csv" }); }
      catch (e) { console.error("REJECTED " + e.name + " " + e.code); }
    });`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["-e", script], {
      env: { PATH: process.env.PATH, AWS_REGION: "us-east-1", MUSICPIPE_FILES_TABLE: "Files-test" },
    });
    expect(stderr).toContain("REJECTED StageEventError invalid_event");
    // On Node.js 20 a warn record about the Node.js version comes first (sayNodeSupportOnce).
    const records = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { level?: string; message?: string; timestamp?: unknown });
    const line = records.find((r) => !/past its end of life/.test(r.message ?? "")) ?? {};
    expect(line).toMatchObject({
      level: "ERROR",
      message: "invalid stage event",
      service: "musicpipe-stages",
      sampling_rate: 0,
    });
    expect(typeof line.timestamp).toBe("string");
  });
});
