// The S3 trigger Lambda handler: key decoding, filtering, the run-id scheme, duplicates and
// failures, first with a recording DagTrigger, then end to end through the real adapters
// against the stand-in Airflow / MWAA, with crafted keys.
import { createAirflowRestTrigger, createMwaaCliTrigger, RUN_ID_PATTERN } from "@musicpipe/aws/airflow";
import {
  createJsonLogger,
  createS3TriggerHandler,
  decodeS3EventKey,
  type S3EventRecordLike,
  S3TriggerError,
  s3RunId,
} from "@musicpipe/aws/lambda";
import { ConfigurationError, type DagTrigger, type LogFields, type Logger } from "@musicpipe/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FAKE_DEFAULTS, type FakeAirflow, startFakeAirflow } from "./airflow-fakes.js";
import { clearLambdaEnv, LAMBDA_CONTEXT } from "./lambda-fixtures.js";

/** How S3 writes a key into an event: form encoding, a space is `+`. */
const encodeKey = (key: string) => encodeURIComponent(key).replaceAll("%20", "+");

const record = (
  key: string,
  etag = "etag-1",
  extra: { bucket?: string; eventName?: string; sequencer?: string; raw?: boolean } = {},
): S3EventRecordLike => ({
  eventName: extra.eventName ?? "ObjectCreated:Put",
  s3: {
    bucket: { name: extra.bucket ?? "music-bucket" },
    object: {
      key: extra.raw ? key : encodeKey(key),
      eTag: etag,
      sequencer: extra.sequencer ?? "0055AED6DCD90281E5",
      size: 10,
    },
  },
});

interface Call {
  readonly dagId: string;
  readonly runId: string;
  readonly conf: Readonly<Record<string, unknown>>;
}

/** A DagTrigger in memory: runs by id, like Airflow; `failFor` keys throw. */
function recordingTrigger(failFor: (conf: Readonly<Record<string, unknown>>) => boolean = () => false) {
  const calls: Call[] = [];
  const runs = new Set<string>();
  const trigger: DagTrigger = {
    async trigger(dagId, runId, conf) {
      calls.push({ dagId, runId, conf });
      if (failFor(conf)) throw new Error("Airflow is down");
      if (runs.has(runId)) return { created: false };
      runs.add(runId);
      return { created: true };
    },
  };
  return { trigger, calls };
}

function memoryLogger() {
  const lines: { level: string; message: string; fields: LogFields }[] = [];
  const at =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      lines.push({ level, message, fields });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

describe("decodeS3EventKey", () => {
  it("reads + as a space, then percent-decodes UTF-8", () => {
    expect(decodeS3EventKey("data/raw/streams/my+file%C3%A9.csv")).toBe("data/raw/streams/my fileé.csv");
    expect(decodeS3EventKey("a%2Bb%20c+d.csv")).toBe("a+b c d.csv");
    expect(decodeS3EventKey("%27%3B%24%28id%29")).toBe("';$(id)");
  });

  it("returns undefined for malformed escapes", () => {
    for (const bad of ["%", "%ZZ", "a%E0%A4%A.csv", "%C3", "%FF.csv"])
      expect(decodeS3EventKey(bad)).toBeUndefined();
  });

  it("inverts S3's encoding of any key (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (key) => decodeS3EventKey(encodeKey(key)) === key),
    );
  });
});

describe("s3RunId", () => {
  it("is s3__<readable tail>__<32 hex digits of sha256(bucket\\nkey\\netag)>", () => {
    expect(s3RunId("b", "data/raw/streams/streams1.csv", "abc")).toMatch(/^s3__streams1\.csv__[0-9a-f]{32}$/);
    expect(s3RunId("b", "data/raw/streams/my fileé.csv", "abc")).toMatch(/^s3__my_filee\.csv__[0-9a-f]{32}$/);
  });

  it("is deterministic, and changes with the bucket, the key and the etag", () => {
    const id = s3RunId("b", "k.csv", "e1");
    expect(s3RunId("b", "k.csv", "e1")).toBe(id);
    expect(s3RunId("b", "k.csv", '"e1"')).toBe(id);
    expect(
      new Set([id, s3RunId("b2", "k.csv", "e1"), s3RunId("b", "k2.csv", "e1"), s3RunId("b", "k.csv", "e2")])
        .size,
    ).toBe(4);
    // The separator keeps (bucket, key) pairs apart.
    expect(s3RunId("a", "b\nc", "e")).not.toBe(s3RunId("a\nb", "c", "e"));
  });

  it("always matches Airflow's run-id rule and has at most 250 characters (property)", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ unit: "binary", maxLength: 2000 }),
        fc.string(),
        (bucket, key, etag) => {
          const id = s3RunId(bucket, key, etag);
          return RUN_ID_PATTERN.test(id) && id.length <= 250 && id.startsWith("s3__");
        },
      ),
    );
  });
});

describe("createS3TriggerHandler", () => {
  it("triggers the DAG with conf {bucket, key, etag, sequencer} and the file's run id", async () => {
    const { trigger, calls } = recordingTrigger();
    const handler = createS3TriggerHandler({ trigger, logger: memoryLogger().logger });
    const key = "data/raw/streams/my fileé.csv";
    const summary = await handler({ Records: [record(key, "e1", { sequencer: "01" })] });
    const runId = s3RunId("music-bucket", key, "e1");
    expect(calls).toEqual([
      {
        dagId: "music_streaming_pipeline",
        runId,
        conf: { bucket: "music-bucket", key, etag: "e1", sequencer: "01" },
      },
    ]);
    expect(summary).toEqual({
      triggered: [{ bucket: "music-bucket", key, etag: "e1", runId }],
      duplicates: [],
      ignored: [],
    });
  });

  it("decodes the key of the issue's example", async () => {
    const { trigger, calls } = recordingTrigger();
    const handler = createS3TriggerHandler({ trigger, logger: memoryLogger().logger });
    await handler({ Records: [record("data/raw/streams/my+file%C3%A9.csv", "e", { raw: true })] });
    expect(calls[0]?.conf.key).toBe("data/raw/streams/my fileé.csv");
  });

  it("ignores other prefixes, other suffixes and events other than ObjectCreated", async () => {
    const { trigger, calls } = recordingTrigger();
    const handler = createS3TriggerHandler({ trigger, logger: memoryLogger().logger });
    const summary = await handler({
      Records: [
        record("data/raw/songs/songs.csv"),
        record("data/raw/streamsX/a.csv"),
        record("data/raw/streams/a.json"),
        record("data/raw/streams/a.csv.bak"),
        record("data/raw/streams/"),
        record("data/raw/streams/a.csv", "e", { eventName: "ObjectRemoved:Delete" }),
        record("data/raw/streams/ok.csv.gz"),
        record("data/raw/streams/2025/06/22/deeper.csv"),
      ],
    });
    expect(summary.ignored).toEqual([
      { key: "data/raw/songs/songs.csv", reason: "outside_prefix" },
      { key: "data/raw/streamsX/a.csv", reason: "outside_prefix" },
      { key: "data/raw/streams/a.json", reason: "not_csv" },
      { key: "data/raw/streams/a.csv.bak", reason: "not_csv" },
      { key: "data/raw/streams/", reason: "not_csv" },
      { key: "data/raw/streams/a.csv", reason: "not_object_created" },
    ]);
    expect(calls.map((c) => c.conf.key)).toEqual([
      "data/raw/streams/ok.csv.gz",
      "data/raw/streams/2025/06/22/deeper.csv",
    ]);
  });

  it("honours streamsPrefix and dagId options", async () => {
    const { trigger, calls } = recordingTrigger();
    const handler = createS3TriggerHandler({
      trigger,
      dagId: "other_dag",
      streamsPrefix: "in",
      logger: memoryLogger().logger,
    });
    const summary = await handler({ Records: [record("in/a.csv"), record("data/raw/streams/a.csv")] });
    expect(calls.map((c) => [c.dagId, c.conf.key])).toEqual([["other_dag", "in/a.csv"]]);
    expect(summary.ignored).toHaveLength(1);
  });

  it("skips a malformed key with a warning, and triggers the rest", async () => {
    const { trigger, calls } = recordingTrigger();
    const { logger, lines } = memoryLogger();
    const handler = createS3TriggerHandler({ trigger, logger });
    const summary = await handler({
      Records: [
        record("data/raw/streams/bad%E0%A4%A.csv", "e", { raw: true }),
        record("data/raw/streams/ok.csv"),
      ],
    });
    expect(summary.ignored).toEqual([{ key: "data/raw/streams/bad%E0%A4%A.csv", reason: "malformed_key" }]);
    expect(calls).toHaveLength(1);
    expect(lines).toContainEqual({
      level: "warn",
      message: "S3 record ignored",
      fields: { fileKey: "data/raw/streams/bad%E0%A4%A.csv", reason: "malformed_key" },
    });
  });

  it("counts a re-delivered event as a duplicate, and a new upload of the same key as a new run", async () => {
    const { trigger } = recordingTrigger();
    const handler = createS3TriggerHandler({ trigger, logger: memoryLogger().logger });
    const key = "data/raw/streams/s1.csv";
    const first = await handler({ Records: [record(key, "e1", { sequencer: "01" })] });
    // S3 delivers at least once: the same event again.
    const again = await handler({ Records: [record(key, "e1", { sequencer: "01" })] });
    const upload = await handler({ Records: [record(key, "e2", { sequencer: "02" })] });
    expect(first.triggered).toHaveLength(1);
    expect(again).toMatchObject({ triggered: [], duplicates: [{ runId: first.triggered[0]?.runId }] });
    expect(upload.triggered).toHaveLength(1);
    expect(upload.triggered[0]?.runId).not.toBe(first.triggered[0]?.runId);
  });

  it("tries every record, then throws so Lambda retries; the retry starts only what is missing", async () => {
    let down = true;
    const { trigger, calls } = recordingTrigger((conf) => down && conf.key === "data/raw/streams/b.csv");
    const { logger, lines } = memoryLogger();
    const handler = createS3TriggerHandler({ trigger, logger });
    const event = {
      Records: [
        record("data/raw/streams/a.csv"),
        record("data/raw/streams/b.csv"),
        record("data/raw/streams/c.csv"),
      ],
    };
    const error = await handler(event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3TriggerError);
    expect(error).toMatchObject({ code: "s3_trigger_failed", file: "data/raw/streams/b.csv" });
    expect((error as S3TriggerError).failures.map((f) => f.key)).toEqual(["data/raw/streams/b.csv"]);
    expect((error as Error).message).toMatch(
      /^triggering DAG 'music_streaming_pipeline' failed for 1 of 3 files: data\/raw\/streams\/b.csv \(run s3__b.csv__[0-9a-f]{32}\): Airflow is down$/,
    );
    expect(calls).toHaveLength(3);
    expect(lines.find((l) => l.level === "error")?.fields).toMatchObject({
      fileKey: "data/raw/streams/b.csv",
    });
    down = false;
    const retry = await handler(event);
    expect(retry.triggered.map((f) => f.key)).toEqual(["data/raw/streams/b.csv"]);
    expect(retry.duplicates.map((f) => f.key)).toEqual(["data/raw/streams/a.csv", "data/raw/streams/c.csv"]);
  });

  it("logs file key and run id of each run as JSON lines by default", async () => {
    const { trigger } = recordingTrigger();
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await createS3TriggerHandler({ trigger })({ Records: [record("data/raw/streams/x.csv")] });
    } finally {
      process.stdout.write = write;
    }
    const line = JSON.parse(written.join("").trim().split("\n").at(-1) as string);
    expect(line).toMatchObject({
      level: "INFO",
      message: "DAG run triggered",
      service: "musicpipe-trigger",
      fileKey: "data/raw/streams/x.csv",
      runId: s3RunId("music-bucket", "data/raw/streams/x.csv", "etag-1"),
    });
  });

  it("puts the Lambda context on its lines: cold start first, then the request id of each invocation", async () => {
    clearLambdaEnv();
    vi.stubEnv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    try {
      const { trigger } = recordingTrigger();
      const lines: string[] = [];
      const handler = createS3TriggerHandler({
        trigger,
        logger: createJsonLogger({ service: "musicpipe-trigger", write: (l) => lines.push(l) }),
      });
      await handler(
        { Records: [record("data/raw/streams/x.csv")] },
        { ...LAMBDA_CONTEXT, functionName: "trigger" },
      );
      await handler(
        { Records: [record("data/raw/streams/x.csv")] },
        { ...LAMBDA_CONTEXT, awsRequestId: "req-2" },
      );
      const logs = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => !/past its end of life/.test(String(l.message)));
      expect(logs.map((l) => [l.message, l.cold_start, l.function_request_id])).toEqual([
        ["DAG run triggered", true, LAMBDA_CONTEXT.awsRequestId],
        ["DAG run already exists: nothing new started", false, "req-2"],
      ]);
      expect(logs[0]).toMatchObject({
        service: "musicpipe-trigger",
        function_name: "trigger",
        fileKey: "data/raw/streams/x.csv",
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("answers an event without records (S3's test event) with an empty summary", async () => {
    const handler = createS3TriggerHandler({
      trigger: recordingTrigger().trigger,
      logger: memoryLogger().logger,
    });
    await expect(handler({ Event: "s3:TestEvent" } as never)).resolves.toEqual({
      triggered: [],
      duplicates: [],
      ignored: [],
    });
  });

  it("checks its options at construction", () => {
    const { trigger } = recordingTrigger();
    expect(() => createS3TriggerHandler({} as never)).toThrow(ConfigurationError);
    expect(() => createS3TriggerHandler({ trigger, dagId: "bad dag" })).toThrow(/dagId/);
    expect(() => createS3TriggerHandler({ trigger, streamsPrefix: "/abs/" })).toThrow(/streamsPrefix/);
    expect(() => createS3TriggerHandler({ trigger, logger: {} as never })).toThrow(/logger/);
  });
});

describe("crafted keys, end to end", () => {
  let fake: FakeAirflow;
  beforeAll(async () => {
    fake = await startFakeAirflow();
  });
  afterAll(() => fake.close());

  const CRAFTED = [
    "it's.csv",
    'a "quoted" name.csv',
    "--conf {} --run-id x.csv",
    "a; rm -rf / ;.csv",
    "new\nline\r.csv",
    "日本語 🎵 é.csv",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, on purpose
    "$(touch /tmp/pwned) `id` ${HOME}.csv",
    "'\"'\"'.csv",
    "back\\slash.csv",
    "%41 is not decoded twice.csv",
    "plus+sign.csv",
  ].map((name) => `data/raw/streams/${name}`);

  const options = { baseDelayMs: 1, maxDelayMs: 2 };
  const triggers = () => ({
    cli: createMwaaCliTrigger({
      environmentName: "music-mwaa",
      region: FAKE_DEFAULTS.region,
      credentials: { accessKeyId: FAKE_DEFAULTS.accessKeyId, secretAccessKey: FAKE_DEFAULTS.secretAccessKey },
      endpoint: fake.url,
      webServerProtocol: "http",
      ...options,
    }),
    v1: createAirflowRestTrigger({
      baseUrl: fake.url,
      apiVersion: "v1",
      username: FAKE_DEFAULTS.username,
      password: FAKE_DEFAULTS.password,
      ...options,
    }),
  });

  for (const via of ["cli", "v1"] as const) {
    it(`arrive verbatim in conf through ${via === "cli" ? "the MWAA CLI" : "the REST API"}`, async () => {
      const handler = createS3TriggerHandler({ trigger: triggers()[via], logger: memoryLogger().logger });
      const etag = `etag-${via}`;
      const summary = await handler({ Records: CRAFTED.map((key) => record(key, etag)) });
      expect(summary.triggered.map((f) => f.key)).toEqual(CRAFTED);
      for (const key of CRAFTED) {
        const run = fake.runs.get(`music_streaming_pipeline/${s3RunId("music-bucket", key, etag)}`);
        expect(run?.conf).toEqual({ bucket: "music-bucket", key, etag, sequencer: "0055AED6DCD90281E5" });
      }
    });
  }

  it("cannot inject CLI arguments with any key (property)", async () => {
    const handler = createS3TriggerHandler({ trigger: triggers().cli, logger: memoryLogger().logger });
    let i = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }), async (name) => {
        const key = `data/raw/streams/${name}.csv`;
        const etag = `p${++i}`;
        const summary = await handler({ Records: [record(key, etag)] });
        const run = fake.runs.get(`music_streaming_pipeline/${summary.triggered[0]?.runId}`);
        expect(run?.conf).toEqual({ bucket: "music-bucket", key, etag, sequencer: "0055AED6DCD90281E5" });
      }),
      { numRuns: 60 },
    );
  });
});
