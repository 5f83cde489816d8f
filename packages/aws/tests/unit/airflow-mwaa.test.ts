// The MWAA triggers against a stand-in MWAA on 127.0.0.1: the CLI endpoint (CreateCliToken,
// SigV4-signed, then /aws_mwaa/cli) and InvokeRestApi. The stand-in splits the CLI body like
// Python's shlex and accepts only `dags trigger DAG --run-id RUN --conf JSON`, so an argument
// smuggled in through the conf fails the test.
import {
  createMwaaCliTrigger,
  createMwaaRestApiTrigger,
  DagTriggerError,
  mwaaTriggerCommand,
  shellQuote,
} from "@musicpipe/aws/airflow";
import { ConfigurationError } from "@musicpipe/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FAKE_DEFAULTS,
  type FakeAirflow,
  shlexSplit,
  startFakeAirflow,
  verifySigV4,
} from "./airflow-fakes.js";

const DAG = "music_streaming_pipeline";
const fast = { baseDelayMs: 1, maxDelayMs: 5 };
const credentials = {
  accessKeyId: FAKE_DEFAULTS.accessKeyId,
  secretAccessKey: FAKE_DEFAULTS.secretAccessKey,
};
let fake: FakeAirflow;
let fake3: FakeAirflow;
let n = 0;
const runId = () => `mwaa_run_${++n}`;

beforeAll(async () => {
  [fake, fake3] = await Promise.all([startFakeAirflow(), startFakeAirflow({ restApiVersion: "v2" })]);
});
afterAll(() => Promise.all([fake.close(), fake3.close()]));

const cli = (extra: Record<string, unknown> = {}) =>
  createMwaaCliTrigger({
    environmentName: "music-mwaa",
    region: FAKE_DEFAULTS.region,
    credentials,
    endpoint: fake.url,
    webServerProtocol: "http",
    ...fast,
    ...extra,
  });
const rest = (extra: Record<string, unknown> = {}, server = fake) =>
  createMwaaRestApiTrigger({
    environmentName: "music-mwaa",
    region: FAKE_DEFAULTS.region,
    credentials,
    endpoint: server.url,
    ...fast,
    ...extra,
  });

/** Keys and values that would break a naive command line. */
const CRAFTED = [
  "it's",
  "a b  c",
  "--conf {}",
  "x; rm -rf /",
  "line\nbreak\r\n",
  "unicode é 日本 🎵",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, on purpose
  "$(touch /tmp/pwned) `id` ${HOME}",
  "'\"'\"'",
  'back\\slash "double"',
  "' --run-id other '",
  "\\'",
  "#not-a-comment",
];

describe("MWAA CLI endpoint", () => {
  it("gets a SigV4-signed CLI token, then posts the command as text/plain with the bearer token", async () => {
    const id = runId();
    const before = fake.requests.length;
    const conf = { bucket: "b", key: "data/raw/streams/s1.csv", etag: "e", sequencer: null };
    await expect(cli().trigger(DAG, id, conf)).resolves.toEqual({ created: true });
    const [token, command] = fake.requests.slice(before);
    expect(token?.path).toBe("/clitoken/music-mwaa");
    expect(token?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDFAKEEXAMPLE\/\d{8}\/eu-west-1\/airflow\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
    expect(command?.path).toBe("/aws_mwaa/cli");
    expect(command?.headers["content-type"]).toBe("text/plain");
    expect(command?.headers.authorization).toMatch(/^Bearer cli-/);
    expect(command?.body).toBe(`dags trigger '${DAG}' --run-id '${id}' --conf '${JSON.stringify(conf)}'`);
    expect(fake.runs.get(`${DAG}/${id}`)).toMatchObject({ conf, via: "cli" });
  });

  it("passes crafted conf values through as one argument, verbatim", async () => {
    const trigger = cli();
    for (const text of CRAFTED) {
      const id = runId();
      const conf = { key: `data/raw/streams/${text}.csv`, [text]: text };
      await expect(trigger.trigger(DAG, id, conf)).resolves.toEqual({ created: true });
      expect(fake.runs.get(`${DAG}/${id}`)?.conf).toEqual(conf);
    }
  });

  it("quotes any string into exactly one shell-split argument (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(shlexSplit(shellQuote(text))).toEqual([text]);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: "binary" }), fc.string({ unit: "binary" })), (conf) => {
        const argv = shlexSplit(mwaaTriggerCommand(DAG, "r1", conf));
        expect(argv.slice(0, 6)).toEqual(["dags", "trigger", DAG, "--run-id", "r1", "--conf"]);
        expect(argv).toHaveLength(7);
        expect(JSON.parse(argv[6] as string)).toEqual(conf);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a run id or DAG id the CLI would read as an option", async () => {
    expect(() => mwaaTriggerCommand(DAG, "-r", {})).toThrow(DagTriggerError);
    expect(() => mwaaTriggerCommand("-d", "r", {})).toThrow(/must not start with '-'/);
    await expect(cli().trigger(DAG, "--conf", {})).rejects.toMatchObject({ code: "invalid_dag_run" });
    await expect(cli().trigger(DAG, "a'b", {})).rejects.toMatchObject({ code: "invalid_dag_run" });
  });

  it("reports an existing run id (DagRunAlreadyExists on stderr) as created: false", async () => {
    const id = runId();
    const trigger = cli();
    await trigger.trigger(DAG, id, {});
    await expect(trigger.trigger(DAG, id, {})).resolves.toEqual({ created: false });
  });

  it("throws the last stderr line of a failed command", async () => {
    const error = await cli()
      .trigger("no_such_dag", runId(), {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DagTriggerError);
    expect((error as DagTriggerError).message).toContain(
      "the Airflow CLI failed: airflow.exceptions.DagNotFound: Dag id no_such_dag not found in DagModel",
    );
    expect((error as DagTriggerError).transient).toBe(false);
  });

  it("reads warnings on stderr as success, and exception or usage lines as failure", async () => {
    const outcome = async (stderr: string) => {
      const fetch: typeof globalThis.fetch = async () =>
        Response.json({ stdout: "", stderr: Buffer.from(stderr).toString("base64") });
      const trigger = createMwaaCliTrigger({
        createCliToken: async () => ({ cliToken: "t", webServerHostname: "example.invalid" }),
        fetch,
      });
      return trigger.trigger(DAG, "r1", {}).then(
        (result) => result,
        (error: unknown) => (error as Error).message,
      );
    };
    const created = { created: true };
    expect(await outcome("")).toEqual(created);
    expect(await outcome("WARNING: the scheduler does not appear to be running.\n")).toEqual(created);
    expect(await outcome("/x/configuration.py:12 DeprecationWarning: old\n")).toEqual(created);
    expect(await outcome("airflow.utils.RemovedInAirflow3Warning: soon\n")).toEqual(created);
    expect(await outcome("Note: something\n")).toEqual(created);
    expect(await outcome("sqlalchemy.exc.OperationalError: no db\n")).toMatch(/CLI failed: sqlalchemy/);
    expect(await outcome("ValueError: bad conf\n")).toMatch(/CLI failed: ValueError: bad conf$/);
    expect(await outcome("usage: airflow\nairflow dags trigger: error: unrecognized arguments: x\n")).toMatch(
      /unrecognized arguments: x$/,
    );
    expect(await outcome("Traceback (most recent call last):\n  File x\n")).toMatch(/CLI failed: File x$/);
    expect(
      await outcome("DagRunAlreadyExists: A Dag Run already exists for dag id d with run id r1\n"),
    ).toEqual({
      created: false,
    });
  });

  it("reuses a CLI token, and gets a new one once when the endpoint refuses it", async () => {
    const trigger = cli();
    const tokens = fake.count("clitoken");
    await trigger.trigger(DAG, runId(), {});
    await trigger.trigger(DAG, runId(), {});
    expect(fake.count("clitoken") - tokens).toBe(1);
    fake.expireTokens();
    await expect(trigger.trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
    expect(fake.count("clitoken") - tokens).toBe(2);
  });

  it("retries a 5xx of the CLI endpoint and of CreateCliToken", async () => {
    fake.fail("clitoken", { status: 500 });
    fake.fail("cli", { status: 502 });
    await expect(cli().trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
  });

  it("fails after maxAttempts on persistent 5xx and on slow answers", async () => {
    const trigger = cli({ maxAttempts: 2, timeoutMs: 100 });
    await trigger.trigger(DAG, runId(), {});
    fake.fail("cli", { status: 503 }, { status: 503 });
    await expect(trigger.trigger(DAG, runId(), {})).rejects.toMatchObject({ status: 503, attempts: 2 });
    fake.fail("cli", { delayMs: 2_000 }, { delayMs: 2_000 });
    await expect(trigger.trigger(DAG, runId(), {})).rejects.toThrow(/timed out after 100 ms/);
  });

  it("throws 403 when CreateCliToken refuses the signature", async () => {
    const trigger = cli({ credentials: { ...credentials, secretAccessKey: "wrong" } });
    const error = await trigger.trigger(DAG, runId(), {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, transient: false });
    expect((error as Error).message).toContain(
      "MWAA CreateCliToken (AccessDeniedException) answered HTTP 403",
    );
    expect((error as Error).message).not.toContain("wrong");
  });

  it("uses an injected createCliToken instead of the MWAA API", async () => {
    let calls = 0;
    const first = await cli().trigger(DAG, runId(), {});
    expect(first.created).toBe(true);
    const tokenFromFake = fake.requests
      .filter((r) => r.route === "cli")
      .at(-1)
      ?.headers.authorization?.slice(7);
    const trigger = createMwaaCliTrigger({
      createCliToken: async () => {
        calls++;
        return { cliToken: tokenFromFake as string, webServerHostname: fake.host };
      },
      webServerProtocol: "http",
    });
    await expect(trigger.trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
    expect(calls).toBe(1);
  });

  it("retries an injected createCliToken's transient errors but not its refusals", async () => {
    const sdkError = (name: string, status: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    let calls = 0;
    const refused = createMwaaCliTrigger({
      createCliToken: async () => {
        calls++;
        throw sdkError("AccessDeniedException", 403);
      },
      ...fast,
    });
    await expect(refused.trigger(DAG, runId(), {})).rejects.toMatchObject({ status: 403, transient: false });
    expect(calls).toBe(1);
    calls = 0;
    const throttled = createMwaaCliTrigger({
      createCliToken: async () => {
        calls++;
        throw sdkError("ThrottlingException", 429);
      },
      ...fast,
    });
    await expect(throttled.trigger(DAG, runId(), {})).rejects.toThrow(
      /after 4 attempts: createCliToken failed \(ThrottlingException\)/,
    );
    expect(calls).toBe(4);
  });
});

describe("MWAA InvokeRestApi", () => {
  it("posts {Path, Method, Body} to /restapi/{Name}, SigV4-signed for service airflow", async () => {
    const id = runId();
    const before = fake.requests.length;
    const conf = { bucket: "b", key: "k", etag: "e", sequencer: "0A" };
    await expect(
      rest({ credentials: { ...credentials, sessionToken: "session-token" } }).trigger(DAG, id, conf),
    ).resolves.toEqual({ created: true });
    const [call] = fake.requests.slice(before);
    expect(call?.path).toBe("/restapi/music-mwaa");
    expect(JSON.parse(call?.body ?? "")).toEqual({
      Path: `/dags/${DAG}/dagRuns`,
      Method: "POST",
      Body: { dag_run_id: id, conf },
    });
    expect(call?.headers["x-amz-security-token"]).toBe("session-token");
    expect(call?.headers.authorization).toMatch(/SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-date/);
    const keys = { ...credentials, region: FAKE_DEFAULTS.region, service: "airflow" };
    expect(verifySigV4(call as NonNullable<typeof call>, keys)).toBeUndefined();
    expect(verifySigV4(call as NonNullable<typeof call>, { ...keys, secretAccessKey: "other" })).toBe(
      "signature does not match",
    );
  });

  it("reports Airflow's 409 (in RestApiStatusCode of a RestApiClientException) as created: false", async () => {
    const id = runId();
    const trigger = rest();
    await trigger.trigger(DAG, id, {});
    await expect(trigger.trigger(DAG, id, {})).resolves.toEqual({ created: false });
  });

  it("throws Airflow's status for a refused call, and MWAA's for its own errors", async () => {
    await expect(rest().trigger("no_such_dag", runId(), {})).rejects.toMatchObject({ status: 404 });
    await expect(
      rest({ credentials: { ...credentials, secretAccessKey: "bad" } }).trigger(DAG, runId(), {}),
    ).rejects.toThrow(/MWAA \(AccessDeniedException\) answered HTTP 403/);
  });

  it("retries 5xx (MWAA's or Airflow's) and throttling", async () => {
    fake.fail(
      "restapi",
      {
        status: 500,
        body: { RestApiStatusCode: 503, RestApiResponse: {} },
        headers: { "x-amzn-errortype": "RestApiServerException" },
      },
      {
        status: 400,
        body: { message: "Rate exceeded" },
        headers: { "x-amzn-errortype": "ThrottlingException" },
      },
      { status: 503 },
    );
    const before = fake.count("restapi");
    await expect(rest().trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
    expect(fake.count("restapi") - before).toBe(4);
  });

  it("gives up after maxAttempts on a persistent 5xx and on timeouts", async () => {
    fake.fail("restapi", { status: 500 }, { status: 500 });
    await expect(rest({ maxAttempts: 2 }).trigger(DAG, runId(), {})).rejects.toMatchObject({
      status: 500,
      transient: true,
    });
    fake.fail("restapi", { delayMs: 2_000 }, { delayMs: 2_000 });
    await expect(rest({ maxAttempts: 2, timeoutMs: 100 }).trigger(DAG, runId(), {})).rejects.toThrow(
      /timed out/,
    );
  });

  it("sends logical_date: null to Airflow 3 environments", async () => {
    await expect(rest({ airflowVersion: 3 }, fake3).trigger(DAG, runId(), {})).resolves.toEqual({
      created: true,
    });
    // Without it, Airflow 3 refuses the body.
    await expect(rest({}, fake3).trigger(DAG, runId(), {})).rejects.toMatchObject({ status: 400 });
  });
});

describe("MWAA trigger options", () => {
  it("are checked at construction", () => {
    const base = { environmentName: "env", region: "eu-west-1", credentials };
    expect(() => createMwaaRestApiTrigger({ ...base, environmentName: "bad name" })).toThrow(
      ConfigurationError,
    );
    expect(() => createMwaaRestApiTrigger({ ...base, region: "mars" })).toThrow(/region/);
    expect(() => createMwaaRestApiTrigger({ ...base, endpoint: "not a url" })).toThrow(/endpoint/);
    expect(() => createMwaaRestApiTrigger({ ...base, airflowVersion: 4 as 3 })).toThrow(/airflowVersion/);
    expect(() => createMwaaRestApiTrigger({ ...base, credentials: { accessKeyId: 1 } as never })).toThrow(
      /credentials/,
    );
    expect(() => createMwaaCliTrigger({ ...base, webServerProtocol: "ftp" as "http" })).toThrow(
      /webServerProtocol/,
    );
    expect(() => createMwaaCliTrigger({ createCliToken: "x" as never })).toThrow(/createCliToken/);
    expect(() => createMwaaCliTrigger({})).toThrow(/environmentName/);
  });

  it("default the region to AWS_REGION and the credentials to the Lambda environment", async () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_REGION = FAKE_DEFAULTS.region;
      delete process.env.AWS_ACCESS_KEY_ID;
      expect(() => createMwaaRestApiTrigger({ environmentName: "env" })).toThrow(/no AWS credentials/);
      process.env.AWS_ACCESS_KEY_ID = FAKE_DEFAULTS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = FAKE_DEFAULTS.secretAccessKey;
      process.env.AWS_SESSION_TOKEN = "from-env";
      const trigger = createMwaaRestApiTrigger({
        environmentName: "music-mwaa",
        endpoint: fake.url,
        ...fast,
      });
      await expect(trigger.trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
      expect(fake.requests.at(-1)?.headers["x-amz-security-token"]).toBe("from-env");
    } finally {
      process.env = saved;
    }
  });
});
