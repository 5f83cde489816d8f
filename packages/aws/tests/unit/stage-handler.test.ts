// The stage Lambda handler without servers: events, options, and what happens when a stage
// fails (stub clients whose every call fails). The whole pipeline runs against the local
// servers in tests/integration/stage-handler.test.ts.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  createJsonLogger,
  createStageHandler,
  parseStageEvent,
  StageEventError,
} from "@musicpipe/aws/lambda";
import { ConfigurationError, type FailureNotice, type Metrics, type Notifier } from "@musicpipe/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearLambdaEnv, LAMBDA_CONTEXT, TRACE_HEADER, TRACE_ID } from "./lambda-fixtures.js";

const KEY = "data/raw/streams/s1.csv";

function failingS3Client(calls: string[]): S3Client {
  return {
    async send(command: { constructor: { name: string } }) {
      calls.push(command.constructor.name);
      throw Object.assign(new Error("connect ECONNREFUSED"), {
        name: "ServiceUnavailable",
        $metadata: { httpStatusCode: 503 },
      });
    },
  } as unknown as S3Client;
}

/** A DynamoDB client whose every call answers with nothing, without a request being sent. */
function emptyDynamoDb(): DynamoDBClient {
  const client = new DynamoDBClient({
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  client.middlewareStack.add(() => async () => ({ output: { $metadata: {} }, response: {} }), {
    step: "initialize",
    name: "answerEmpty",
  });
  return client;
}

function harness(extra: Partial<Parameters<typeof createStageHandler>[0]> = {}) {
  const calls: string[] = [];
  const notices: FailureNotice[] = [];
  const logs: Record<string, unknown>[] = [];
  const counted: [string, number, Record<string, string> | undefined][] = [];
  let flushes = 0;
  const notifier: Notifier = {
    async notify(notice) {
      notices.push(notice);
    },
  };
  const metrics: Metrics = {
    count: (name, value, dims) => counted.push([name, value, dims ? { ...dims } : undefined]),
    durationMs() {},
    async flush() {
      flushes++;
    },
  };
  const record =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logs.push({ level, message, ...fields });
    };
  const handler = createStageHandler({
    s3Client: failingS3Client(calls),
    // DynamoDB answers every call with nothing (no record stored), so the stage reads the
    // record and then fails on S3.
    dynamoDbClient: emptyDynamoDb(),
    notifier,
    metrics,
    logger: { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") },
    ...extra,
  });
  return { handler, calls, notices, logs, counted, flushes: () => flushes };
}

describe("parseStageEvent", () => {
  it("reads the direct and the Airflow-style event", () => {
    expect(parseStageEvent({ stage: "validate", bucket: "b", key: KEY, runId: "r1" })).toEqual({
      stage: "validate",
      bucket: "b",
      key: KEY,
      runId: "r1",
    });
    expect(
      parseStageEvent({ stage: "load", conf: { bucket: "b", key: KEY, etag: "e" }, run_id: "r2" }),
    ).toEqual({
      stage: "load",
      bucket: "b",
      key: KEY,
      runId: "r2",
    });
    expect(parseStageEvent(JSON.stringify({ stage: "archive", bucket: "b", key: KEY }))).toEqual({
      stage: "archive",
      bucket: "b",
      key: KEY,
    });
  });

  it("reads a listen-date load", () => {
    expect(
      parseStageEvent({ stage: "load_date", bucket: "b", listenDate: "2024-02-29", runId: "r" }),
    ).toEqual({
      stage: "load_date",
      bucket: "b",
      listenDate: "2024-02-29",
      runId: "r",
    });
    expect(parseStageEvent({ stage: "load_date", conf: { bucket: "b" }, listenDate: "2025-06-22" })).toEqual({
      stage: "load_date",
      bucket: "b",
      listenDate: "2025-06-22",
    });
    // The whole listen date range, years below 100 included.
    for (const listenDate of ["0001-01-01", "0099-12-31", "0004-02-29", "9999-12-31"])
      expect(parseStageEvent({ stage: "load_date", bucket: "b", listenDate })).toMatchObject({ listenDate });
    for (const listenDate of [
      undefined,
      "2025-02-29",
      "2025-6-22",
      "2025-06-22T00:00:00Z",
      20250622,
      "0000-01-01",
      "0099-02-29",
    ]) {
      expect(
        () => parseStageEvent({ stage: "load_date", bucket: "b", listenDate }),
        String(listenDate),
      ).toThrow(/listenDate/);
    }
  });

  it("refuses anything else with invalid_event", () => {
    for (const event of [
      null,
      "not json",
      [],
      { bucket: "b", key: KEY },
      { stage: "deploy", bucket: "b", key: KEY },
      { stage: "validate", bucket: "", key: KEY },
      { stage: "validate", bucket: "b" },
      { stage: "validate", conf: null },
      { stage: "validate", conf: { bucket: "b" } },
      { stage: "validate", bucket: "b", key: KEY, runId: 7 },
    ]) {
      expect(() => parseStageEvent(event), JSON.stringify(event)).toThrow(StageEventError);
    }
  });
});

describe("createStageHandler", () => {
  it("checks its options at construction", () => {
    expect(() => createStageHandler({ s3Client: {} as S3Client })).toThrow(ConfigurationError);
    expect(() => createStageHandler({ notifier: {} as Notifier })).toThrow(/'notifier'/);
    expect(() => createStageHandler({ tableNames: { files: "x" } })).toThrow(/tableNames\.files/);
    expect(() => createStageHandler({ tableNames: { bogus: "abc" } as never })).toThrow(/unknown table role/);
    expect(() => createStageHandler({ allowedBuckets: [] })).toThrow(/allowedBuckets/);
    expect(() => createStageHandler({ prefix: "/abs/" })).toThrow(/'prefix'/);
  });

  it("refuses keys outside the streams prefix, other buckets and bad events, touching nothing", async () => {
    const h = harness({ allowedBuckets: ["music"], prefix: "tenant/" });
    const refused = [
      { stage: "validate", bucket: "music", key: "tenant/data/raw/songs/songs.csv" },
      { stage: "validate", bucket: "music", key: "tenant/data/raw/streams/notes.txt" },
      { stage: "validate", bucket: "music", key: KEY },
      { stage: "validate", bucket: "other", key: `tenant/${KEY}` },
      { stage: "rollback", bucket: "music", key: `tenant/${KEY}` },
    ];
    for (const event of refused) {
      await expect(h.handler(event), JSON.stringify(event)).rejects.toMatchObject({ code: "invalid_event" });
    }
    expect(h.calls).toEqual([]);
    expect(h.notices).toEqual([]);
    expect(h.flushes()).toBe(refused.length);
    // On Node.js 20 the handler also logs, once, the Node.js support line (sayNodeSupportOnce).
    const logs = h.logs.filter((l) => !/past its end of life/.test(String(l.message)));
    expect(logs.every((l) => l.level === "error" && l.message === "invalid stage event")).toBe(true);
  });

  it("throws a failed stage for the orchestrator to retry, after notifying, counting and flushing", async () => {
    const h = harness();
    const error = await h
      .handler(
        { stage: "validate", conf: { bucket: "music", key: KEY }, runId: "r1" },
        { awsRequestId: "req-1" },
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "s3_error" });
    expect(h.calls.length).toBeGreaterThan(0);
    expect(h.notices).toEqual([
      { fileKey: KEY, stage: "validate", code: "s3_error", message: (error as Error).message, runId: "r1" },
    ]);
    expect(h.counted).toContainEqual(["StageErrors", 1, { stage: "validate" }]);
    expect(h.flushes()).toBe(1);
    expect(h.logs.at(-1)).toMatchObject({
      level: "error",
      message: "stage failed",
      code: "s3_error",
      stage: "validate",
      fileKey: KEY,
      bucket: "music",
      runId: "r1",
      requestId: "req-1",
    });
  });

  it("keeps the stage's error when the notifier fails too, and logs the notifier's", async () => {
    const h = harness({
      notifier: {
        async notify() {
          throw new Error("SNS down");
        },
      },
    });
    await expect(h.handler({ stage: "load", bucket: "music", key: KEY })).rejects.toMatchObject({
      code: "s3_error",
    });
    expect(h.logs.map((l) => l.message)).toContain("failure notice could not be sent");
    expect(h.flushes()).toBe(1);
  });

  it("flushes even when the metrics flush itself fails, without hiding the stage's outcome", async () => {
    const h = harness({
      metrics: {
        count() {},
        durationMs() {},
        async flush() {
          throw new Error("stdout closed");
        },
      },
    });
    await expect(h.handler({ stage: "archive", bucket: "music", key: KEY })).rejects.toMatchObject({
      code: "s3_error",
    });
    expect(h.logs.map((l) => l.message)).toContain("metrics could not be flushed");
  });
});

describe("createStageHandler and the Lambda context", () => {
  beforeEach(() => {
    clearLambdaEnv();
    vi.stubEnv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    vi.stubEnv("_X_AMZN_TRACE_ID", TRACE_HEADER);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const notEol = (line: Record<string, unknown>) => !/past its end of life/.test(String(line.message));

  it("puts it on the default logger's lines: cold_start on the first invocation only, request id, trace id", async () => {
    const lines: string[] = [];
    const h = harness({
      logger: createJsonLogger({ service: "musicpipe-stages", level: "debug", write: (l) => lines.push(l) }),
    });
    await expect(h.handler({ stage: "deploy", bucket: "music", key: KEY }, LAMBDA_CONTEXT)).rejects.toThrow(
      StageEventError,
    );
    await expect(
      h.handler(
        { stage: "validate", bucket: "music", key: KEY, runId: "r1" },
        { ...LAMBDA_CONTEXT, awsRequestId: "req-2" },
      ),
    ).rejects.toMatchObject({ code: "s3_error" });
    const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter(notEol);
    expect(logs[0]).toMatchObject({
      level: "ERROR",
      message: "invalid stage event",
      service: "musicpipe-stages",
      cold_start: true,
      function_name: "musicpipe-stages",
      function_request_id: LAMBDA_CONTEXT.awsRequestId,
      xray_trace_id: TRACE_ID,
      code: "invalid_event",
    });
    const failed = logs.find((l) => l.message === "stage failed");
    expect(failed).toMatchObject({
      level: "ERROR",
      cold_start: false,
      function_request_id: "req-2",
      stage: "validate",
      fileKey: KEY,
      bucket: "music",
      runId: "r1",
      code: "s3_error",
    });
    // The request id is function_request_id: no requestId field besides.
    expect(logs.some((l) => "requestId" in l)).toBe(false);
    expect(logs.filter((l) => l.function_request_id === "req-2").map((l) => l.message)).toContain(
      "stage started",
    );
  });

  it("gives a plain Logger the request id as a requestId field", async () => {
    const h = harness();
    await expect(
      h.handler({ stage: "load", bucket: "music", key: KEY }, LAMBDA_CONTEXT),
    ).rejects.toMatchObject({
      code: "s3_error",
    });
    expect(h.logs.at(-1)).toMatchObject({ message: "stage failed", requestId: LAMBDA_CONTEXT.awsRequestId });
    expect(h.logs.some((l) => "function_request_id" in l)).toBe(false);
  });
});
