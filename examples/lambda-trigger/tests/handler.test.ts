// The bundled trigger Lambda (dist/index.mjs, as deployed) against a stand-in Airflow API, v1
// (basic auth) and v2 (bearer token). Builds nothing: `pnpm test` builds first; without a
// bundle these tests are skipped.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FAKE_DEFAULTS,
  type FakeAirflow,
  startFakeAirflow,
} from "../../../packages/aws/tests/unit/airflow-fakes.js";

interface TriggeredFile {
  bucket: string;
  key: string;
  etag: string;
  runId: string;
}
interface Summary {
  triggered: TriggeredFile[];
  duplicates: TriggeredFile[];
  ignored: { key: string | undefined; reason: string }[];
}
type Handler = (event: unknown) => Promise<Summary>;
interface Bundle {
  handler: Handler;
  createHandlerFromEnv(env: Record<string, string | undefined>, options?: { logger?: unknown }): Handler;
}

const bundlePath = fileURLToPath(new URL("../dist/index.mjs", import.meta.url));
const built = existsSync(bundlePath);
const bundle: Bundle | undefined = built ? ((await import(bundlePath)) as Bundle) : undefined;

const BUCKET = "music-bucket";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const DAG = "music_streaming_pipeline";

/** The documented run-id scheme, computed independently of the library. */
const expectedRunId = (key: string, etag: string) =>
  `__${createHash("sha256").update(`${BUCKET}\n${key}\n${etag}`).digest("hex").slice(0, 32)}`;

/** An S3 event record, with the key encoded the way S3 does it (`+` for a space). */
const record = (key: string, etag: string, sequencer = "0055AED6DCD90281E5", raw = false) => ({
  eventVersion: "2.1",
  eventSource: "aws:s3",
  eventName: "ObjectCreated:Put",
  s3: {
    s3SchemaVersion: "1.0",
    bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
    object: {
      key: raw ? key : encodeURIComponent(key).replaceAll("%20", "+"),
      size: 42,
      eTag: etag,
      sequencer,
    },
  },
});

let fake: FakeAirflow;
beforeAll(async () => {
  fake = await startFakeAirflow();
});
afterAll(() => fake?.close());

const envFor = (apiVersion: "v1" | "v2", extra: Record<string, string> = {}) => ({
  MUSICPIPE_DAG_TRIGGER: "airflow",
  AIRFLOW_BASE_URL: fake.url,
  AIRFLOW_API_VERSION: apiVersion,
  AIRFLOW_USERNAME: FAKE_DEFAULTS.username,
  AIRFLOW_PASSWORD: FAKE_DEFAULTS.password,
  MUSICPIPE_TRIGGER_MAX_ATTEMPTS: "2",
  ...extra,
});

describe.each(["v1", "v2"] as const)("the bundled trigger Lambda on Airflow REST API %s", (apiVersion) => {
  const make = (extra: Record<string, string> = {}) =>
    (bundle as Bundle).createHandlerFromEnv(envFor(apiVersion, extra), { logger: quiet });
  const runOf = (runId: string | undefined) => fake.runs.get(`${DAG}/${runId}`);
  const etag = (name: string) => `${apiVersion}-${name}`;

  it.skipIf(!built)("decodes the key: + is a space, then percent-decoding", async () => {
    const summary = await make()({
      Records: [record("data/raw/streams/my+file%C3%A9.csv", etag("decode"), "01", true)],
    });
    expect(summary.triggered.map((f) => f.key)).toEqual(["data/raw/streams/my fileé.csv"]);
    expect(runOf(summary.triggered[0]?.runId)?.conf).toEqual({
      bucket: BUCKET,
      key: "data/raw/streams/my fileé.csv",
      etag: etag("decode"),
      sequencer: "01",
    });
  });

  it.skipIf(!built)("ignores other prefixes and suffixes, calling nothing", async () => {
    const before = fake.requests.length;
    const summary = await make()({
      Records: [
        record("data/raw/songs/songs.csv", etag("f1")),
        record("data/archive/2025/06/22/s.csv", etag("f2")),
        record("data/raw/streams/notes.txt", etag("f3")),
        record("data/raw/streams/s.csv.zip", etag("f4")),
      ],
    });
    expect(summary.triggered).toEqual([]);
    expect(summary.ignored.map((i) => i.reason)).toEqual([
      "outside_prefix",
      "outside_prefix",
      "not_csv",
      "not_csv",
    ]);
    expect(fake.requests.length).toBe(before);
  });

  it.skipIf(!built)("follows MUSICPIPE_STREAMS_PREFIX and MUSICPIPE_DAG_ID", async () => {
    const handler = make({ MUSICPIPE_STREAMS_PREFIX: "incoming/", MUSICPIPE_DAG_ID: "no_such_dag" });
    const summary = await handler({ Records: [record("data/raw/streams/a.csv", etag("p"))] });
    expect(summary.ignored).toEqual([{ key: "data/raw/streams/a.csv", reason: "outside_prefix" }]);
    // The stand-in knows only music_streaming_pipeline: another DAG id reaches Airflow (404).
    await expect(handler({ Records: [record("incoming/a.csv", etag("p"))] })).rejects.toThrow(/HTTP 404/);
  });

  it.skipIf(!built)("derives the run id from bucket, key and etag, deterministically", async () => {
    const key = "data/raw/streams/streams 2025-06-22.csv";
    const first = await make()({ Records: [record(key, etag("det"), "01")] });
    const runId = first.triggered[0]?.runId ?? "";
    expect(runId).toBe(`s3__streams_2025-06-22.csv${expectedRunId(key, etag("det"))}`);
    expect(runId).toMatch(/^[A-Za-z0-9_.~:+-]{1,250}$/);
    // Another cold start, another sequencer (S3 re-delivery): the same run id.
    const again = await make()({ Records: [record(key, etag("det"), "02")] });
    expect(again.duplicates.map((f) => f.runId)).toEqual([runId]);
  });

  it.skipIf(!built)("starts nothing new, and does not fail, on a re-delivered event", async () => {
    const handler = make();
    const event = { Records: [record("data/raw/streams/redelivered.csv", etag("re"))] };
    const first = await handler(event);
    const runs = fake.runs.size;
    const again = await handler(event);
    expect(first.triggered).toHaveLength(1);
    expect(again).toEqual({ triggered: [], duplicates: first.triggered, ignored: [] });
    expect(fake.runs.size).toBe(runs);
  });

  it.skipIf(!built)("starts a new run for a new upload of the same key (new etag)", async () => {
    const handler = make();
    const key = "data/raw/streams/reuploaded.csv";
    const first = await handler({ Records: [record(key, etag("old"))] });
    const second = await handler({ Records: [record(key, etag("new"))] });
    expect(second.triggered).toHaveLength(1);
    expect(second.triggered[0]?.runId).not.toBe(first.triggered[0]?.runId);
    expect(runOf(second.triggered[0]?.runId)?.conf).toMatchObject({ key, etag: etag("new") });
  });

  it.skipIf(!built)("passes crafted keys verbatim in conf", async () => {
    const keys = [
      "it's here.csv",
      "--conf {} --run-id x.csv",
      "a; rm -rf /.csv",
      "new\nline.csv",
      "日本語 🎵.csv",
      "$(touch /tmp/pwned) `id`.csv",
      "'\"'\"'.csv",
      "100%25 plus+sign.csv",
    ].map((name) => `data/raw/streams/${name}`);
    const summary = await make()({ Records: keys.map((key) => record(key, etag("crafted"))) });
    expect(summary.triggered.map((f) => f.key)).toEqual(keys);
    for (const file of summary.triggered) {
      expect(file.runId).toMatch(/^[A-Za-z0-9_.~:+-]{1,250}$/);
      expect(runOf(file.runId)?.conf).toMatchObject({ bucket: BUCKET, key: file.key });
    }
  });

  it.skipIf(!built)("fails the invocation on a persistent 5xx, so Lambda retries the event", async () => {
    fake.fail(apiVersion, { status: 500 }, { status: 503 });
    const error = await make()({ Records: [record("data/raw/streams/down.csv", etag("down"))] }).catch(
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error).toMatchObject({ name: "S3TriggerError", code: "s3_trigger_failed" });
    expect((error as Error).message).toContain("HTTP 503");
    // The retry succeeds once Airflow is back.
    const retry = await make()({ Records: [record("data/raw/streams/down.csv", etag("down"))] });
    expect(retry.triggered).toHaveLength(1);
  });

  it.skipIf(!built)("fails the invocation when Airflow refuses the credentials", async () => {
    await expect(
      make({ AIRFLOW_PASSWORD: "not-the-password" })({
        Records: [record("data/raw/streams/x.csv", etag("auth"))],
      }),
    ).rejects.toThrow(/HTTP 401/);
  });
});

describe("the bundled trigger Lambda's configuration", () => {
  const fails = (env: Record<string, string | undefined>) => () =>
    (bundle as Bundle).createHandlerFromEnv(env);

  it.skipIf(!built)("names the variable that is missing or wrong", () => {
    expect(fails({})).toThrow(/MUSICPIPE_DAG_TRIGGER is not set/);
    expect(fails({ MUSICPIPE_DAG_TRIGGER: "kafka" })).toThrow(
      /MUSICPIPE_DAG_TRIGGER must be one of airflow, mwaa-cli, mwaa-rest/,
    );
    const airflow = {
      MUSICPIPE_DAG_TRIGGER: "airflow",
      AIRFLOW_BASE_URL: "https://a.example",
      AIRFLOW_API_VERSION: "v1",
      AIRFLOW_USERNAME: "u",
      AIRFLOW_PASSWORD: "p",
    };
    expect(fails({ ...airflow, AIRFLOW_BASE_URL: undefined })).toThrow(/AIRFLOW_BASE_URL is not set/);
    expect(fails({ ...airflow, AIRFLOW_BASE_URL: "nope" })).toThrow(
      /AIRFLOW_BASE_URL must be an http\(s\) URL/,
    );
    expect(fails({ ...airflow, AIRFLOW_API_VERSION: "v3" })).toThrow(/AIRFLOW_API_VERSION must be v1/);
    expect(fails({ ...airflow, AIRFLOW_PASSWORD: "" })).toThrow(/AIRFLOW_PASSWORD is not set/);
    expect(fails({ ...airflow, MUSICPIPE_TRIGGER_MAX_ATTEMPTS: "0" })).toThrow(
      /MUSICPIPE_TRIGGER_MAX_ATTEMPTS/,
    );
    expect(fails({ ...airflow, MUSICPIPE_STREAMS_PREFIX: "/abs" })).toThrow(/MUSICPIPE_STREAMS_PREFIX/);
    expect(fails({ MUSICPIPE_DAG_TRIGGER: "mwaa-cli" })).toThrow(/MWAA_ENV_NAME is not set/);
    expect(
      fails({ MUSICPIPE_DAG_TRIGGER: "mwaa-rest", MWAA_ENV_NAME: "env", AWS_REGION: "nowhere" }),
    ).toThrow(/MWAA_ENV_NAME, AWS_REGION.*region/);
  });

  it.skipIf(!built)(
    "keeps a cold-start configuration error and throws it from every invocation",
    async () => {
      // This test process sets no MUSICPIPE_DAG_TRIGGER, so the bundle's own handler is unconfigured.
      expect(process.env.MUSICPIPE_DAG_TRIGGER).toBeUndefined();
      await expect((bundle as Bundle).handler({ Records: [] })).rejects.toThrow(
        /MUSICPIPE_DAG_TRIGGER is not set/,
      );
      await expect((bundle as Bundle).handler({ Records: [] })).rejects.toMatchObject({
        code: "invalid_configuration",
      });
    },
  );

  it.skipIf(!built)("says what is wrong at cold start in one JSON line on standard error", () => {
    const env = { ...process.env };
    delete env.MUSICPIPE_DAG_TRIGGER;
    const run = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `await import(${JSON.stringify(pathToFileURL(bundlePath).href)})`],
      {
        env,
        encoding: "utf8",
      },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    const lines = run.stderr.split("\n").filter((l) => l.startsWith("{"));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: "ERROR",
      message: expect.stringMatching(/MUSICPIPE_DAG_TRIGGER is not set/),
      service: "musicpipe-trigger",
      code: "invalid_configuration",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it.skipIf(!built)(
    "reads the process environment, and follows it when it changes (v1, then v2)",
    async () => {
      const saved = { ...process.env };
      try {
        const paths: string[] = [];
        for (const [n, version] of (["v1", "v2"] as const).entries()) {
          Object.assign(process.env, envFor(version));
          const before = fake.requests.length;
          const summary = await (bundle as Bundle).handler({
            Records: [record("data/raw/streams/env.csv", `env-${n}`)],
          });
          expect(summary.triggered).toHaveLength(1);
          paths.push(...fake.requests.slice(before).map((r) => r.path));
        }
        expect(paths.some((p) => p.startsWith("/api/v1/dags/"))).toBe(true);
        expect(paths.some((p) => p.startsWith("/api/v2/dags/"))).toBe(true);
      } finally {
        for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
        Object.assign(process.env, saved);
      }
    },
  );
});
