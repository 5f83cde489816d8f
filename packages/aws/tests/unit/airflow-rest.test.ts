// The self-hosted Airflow trigger (REST API v1 with basic auth, v2 with a bearer token) against
// a stand-in Airflow on 127.0.0.1: request shapes, duplicates, refusals, retries and timeouts.
import { createAirflowRestTrigger, DagTriggerError } from "@musicpipe/aws/airflow";
import { ConfigurationError } from "@musicpipe/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_DEFAULTS, type FakeAirflow, startFakeAirflow } from "./airflow-fakes.js";

const DAG = "music_streaming_pipeline";
const fast = { baseDelayMs: 1, maxDelayMs: 5 };
let fake: FakeAirflow;
let n = 0;
const runId = () => `test_run_${++n}`;

beforeAll(async () => {
  fake = await startFakeAirflow();
});
afterAll(() => fake.close());

const v1 = (extra: Record<string, unknown> = {}) =>
  createAirflowRestTrigger({
    baseUrl: fake.url,
    apiVersion: "v1",
    username: FAKE_DEFAULTS.username,
    password: FAKE_DEFAULTS.password,
    ...fast,
    ...extra,
  });
const v2 = (extra: Record<string, unknown> = {}) =>
  createAirflowRestTrigger({
    baseUrl: `${fake.url}/`,
    apiVersion: "v2",
    username: FAKE_DEFAULTS.username,
    password: FAKE_DEFAULTS.password,
    ...fast,
    ...extra,
  });

async function rejection(promise: Promise<unknown>): Promise<DagTriggerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DagTriggerError);
  return error as DagTriggerError;
}

describe("Airflow REST API v1 (Airflow 2, basic auth)", () => {
  it("creates a run with POST /api/v1/dags/{id}/dagRuns, {dag_run_id, conf} and basic auth", async () => {
    const id = runId();
    const before = fake.requests.length;
    const conf = { bucket: "b", key: "data/raw/streams/a b.csv", etag: "e1", sequencer: "01" };
    await expect(v1().trigger(DAG, id, conf)).resolves.toEqual({ created: true });
    const sent = fake.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.path).toBe(`/api/v1/dags/${DAG}/dagRuns`);
    expect(sent[0]?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(sent[0]?.body ?? "")).toEqual({ dag_run_id: id, conf });
    expect(fake.runs.get(`${DAG}/${id}`)).toMatchObject({ conf, via: "v1" });
  });

  it("reports an existing run id (409) as created: false, without retrying", async () => {
    const id = runId();
    const trigger = v1();
    await trigger.trigger(DAG, id, {});
    const before = fake.count("v1");
    await expect(trigger.trigger(DAG, id, {})).resolves.toEqual({ created: false });
    expect(fake.count("v1") - before).toBe(1);
  });

  it("throws a credential-free DagTriggerError on a wrong password (401), without retrying", async () => {
    const before = fake.count("v1");
    const error = await rejection(v1({ password: "wrong-password" }).trigger(DAG, runId(), {}));
    expect(error).toMatchObject({ code: "dag_trigger_failed", status: 401, transient: false, attempts: 1 });
    expect(error.message).toMatch(
      /^triggering DAG 'music_streaming_pipeline' run 'test_run_\d+' failed: Airflow answered HTTP 401/,
    );
    expect(error.message).not.toContain("wrong-password");
    expect(JSON.stringify(error)).not.toContain("wrong-password");
    expect(fake.count("v1") - before).toBe(1);
  });

  it("throws on an unknown DAG (404) and a bad request (400)", async () => {
    await expect(v1().trigger("no_such_dag", runId(), {})).rejects.toMatchObject({ status: 404 });
    fake.fail("v1", { status: 400, body: { title: "Bad Request", detail: "conf is not an object" } });
    const error = await rejection(v1().trigger(DAG, runId(), {}));
    expect(error.status).toBe(400);
    expect(error.message).toContain("Bad Request: conf is not an object");
  });

  it("retries a 5xx and then succeeds", async () => {
    const id = runId();
    fake.fail("v1", { status: 503 }, { status: 500 });
    const before = fake.count("v1");
    await expect(v1().trigger(DAG, id, {})).resolves.toEqual({ created: true });
    expect(fake.count("v1") - before).toBe(3);
  });

  it("retries a 429, waiting at least its Retry-After (capped by maxDelayMs)", async () => {
    fake.fail("v1", { status: 429, headers: { "retry-after": "0" } });
    await expect(v1().trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
  });

  it("gives up after maxAttempts on a persistent 5xx", async () => {
    fake.fail("v1", ...Array.from({ length: 4 }, () => ({ status: 502 })));
    const before = fake.count("v1");
    const error = await rejection(v1().trigger(DAG, runId(), {}));
    expect(error).toMatchObject({ status: 502, transient: true, attempts: 4 });
    expect(error.message).toContain("failed after 4 attempts: Airflow answered HTTP 502");
    expect(fake.count("v1") - before).toBe(4);
  });

  it("times out a slow response and retries it", async () => {
    const id = runId();
    fake.fail("v1", { delayMs: 3_000 });
    const before = fake.count("v1");
    await expect(v1({ timeoutMs: 150 }).trigger(DAG, id, {})).resolves.toEqual({ created: true });
    // Two requests: the slow one was given up after 150 ms (waiting for it would have made one).
    expect(fake.count("v1") - before).toBe(2);
  });

  it("fails when every attempt times out", async () => {
    fake.fail("v1", { delayMs: 3_000 }, { delayMs: 3_000 });
    const error = await rejection(v1({ timeoutMs: 100, maxAttempts: 2 }).trigger(DAG, runId(), {}));
    expect(error).toMatchObject({ transient: true, attempts: 2, status: undefined });
    expect(error.message).toContain("timed out after 100 ms");
  });

  it("retries network errors through the injected fetch, counting every call", async () => {
    let calls = 0;
    const fetch: typeof globalThis.fetch = async (input, init) => {
      calls++;
      if (calls < 3) throw new TypeError("fetch failed");
      return globalThis.fetch(input, init);
    };
    await expect(v1({ fetch }).trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
    expect(calls).toBe(3);
  });

  it("refuses run ids Airflow would reject, sending nothing", async () => {
    const before = fake.requests.length;
    for (const bad of ["", "a b", "x'y", "a\nb", "é", "x".repeat(251), "$(id)"]) {
      await expect(v1().trigger(DAG, bad, {})).rejects.toMatchObject({ code: "invalid_dag_run" });
    }
    await expect(v1().trigger("bad dag", "ok", {})).rejects.toMatchObject({ code: "invalid_dag_run" });
    expect(fake.requests.length).toBe(before);
  });
});

describe("Airflow REST API v2 (Airflow 3, bearer token)", () => {
  it("gets a token from POST /auth/token and sends {dag_run_id, logical_date: null, conf} with it", async () => {
    const id = runId();
    const trigger = v2();
    const before = fake.requests.length;
    await expect(trigger.trigger(DAG, id, { key: "k" })).resolves.toEqual({ created: true });
    const [token, run] = fake.requests.slice(before);
    expect(token?.path).toBe("/auth/token");
    expect(JSON.parse(token?.body ?? "")).toEqual({
      username: FAKE_DEFAULTS.username,
      password: FAKE_DEFAULTS.password,
    });
    expect(run?.path).toBe(`/api/v2/dags/${DAG}/dagRuns`);
    expect(run?.headers.authorization).toMatch(/^Bearer jwt\./);
    expect(JSON.parse(run?.body ?? "")).toEqual({ dag_run_id: id, logical_date: null, conf: { key: "k" } });
  });

  it("reuses the token, and concurrent calls share one token request", async () => {
    const trigger = v2();
    const before = fake.count("token");
    await Promise.all([trigger.trigger(DAG, runId(), {}), trigger.trigger(DAG, runId(), {})]);
    await trigger.trigger(DAG, runId(), {});
    expect(fake.count("token") - before).toBe(1);
  });

  it("reports an existing run id (409) as created: false", async () => {
    const id = runId();
    const trigger = v2();
    await trigger.trigger(DAG, id, {});
    await expect(trigger.trigger(DAG, id, {})).resolves.toEqual({ created: false });
  });

  it("gets a new token once when the API answers 401", async () => {
    const trigger = v2();
    await trigger.trigger(DAG, runId(), {});
    fake.expireTokens();
    const tokens = fake.count("token");
    const runs = fake.count("v2");
    await expect(trigger.trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
    expect(fake.count("token") - tokens).toBe(1);
    expect(fake.count("v2") - runs).toBe(2);
  });

  it("throws 401 when the new token is refused too", async () => {
    fake.fail("v2", { status: 401 }, { status: 401 });
    const runs = fake.count("v2");
    const error = await rejection(v2().trigger(DAG, runId(), {}));
    expect(error).toMatchObject({ status: 401, transient: false });
    expect(fake.count("v2") - runs).toBe(2);
  });

  it("throws 401 on wrong credentials, without calling the API", async () => {
    const runs = fake.count("v2");
    const error = await rejection(v2({ password: "nope-nope" }).trigger(DAG, runId(), {}));
    expect(error.status).toBe(401);
    expect(error.message).toContain("token endpoint answered HTTP 401");
    expect(error.message).not.toContain("nope-nope");
    expect(fake.count("v2")).toBe(runs);
  });

  it("retries a 5xx of the token endpoint and of the API", async () => {
    fake.fail("token", { status: 503 });
    fake.fail("v2", { status: 500 });
    await expect(v2().trigger(DAG, runId(), {})).resolves.toEqual({ created: true });
  });

  it("gives up after maxAttempts on a persistent 5xx, and on timeouts", async () => {
    const trigger = v2({ maxAttempts: 3, timeoutMs: 100 });
    await trigger.trigger(DAG, runId(), {});
    fake.fail("v2", { status: 500 }, { status: 500 }, { status: 500 });
    await expect(trigger.trigger(DAG, runId(), {})).rejects.toMatchObject({ status: 500, attempts: 3 });
    fake.fail("v2", { delayMs: 3_000 }, { delayMs: 3_000 }, { delayMs: 3_000 });
    await expect(trigger.trigger(DAG, runId(), {})).rejects.toMatchObject({ transient: true, attempts: 3 });
  });
});

describe("createAirflowRestTrigger options", () => {
  const base = {
    baseUrl: "https://airflow.example.com",
    apiVersion: "v1",
    username: "u",
    password: "p",
  } as const;

  it("are checked at construction", () => {
    expect(() => createAirflowRestTrigger({ ...base, baseUrl: "airflow.example.com" })).toThrow(
      ConfigurationError,
    );
    expect(() => createAirflowRestTrigger({ ...base, baseUrl: "ftp://x" })).toThrow(ConfigurationError);
    expect(() => createAirflowRestTrigger({ ...base, apiVersion: "v3" as "v1" })).toThrow(/apiVersion/);
    expect(() => createAirflowRestTrigger({ ...base, username: "" })).toThrow(/username/);
    expect(() => createAirflowRestTrigger({ ...base, maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => createAirflowRestTrigger({ ...base, timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => createAirflowRestTrigger(undefined as never)).toThrow(ConfigurationError);
  });

  it("refuse a base URL with credentials, without repeating them", () => {
    const make = () =>
      createAirflowRestTrigger({ ...base, baseUrl: "https://admin:hunter2@airflow.example.com" });
    expect(make).toThrow(/must not contain credentials/);
    expect(make).not.toThrow(/hunter2/);
  });

  it("keep a path prefix of the base URL", async () => {
    const urls: string[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      urls.push(String(input));
      return new Response("{}", { status: 200 });
    };
    await createAirflowRestTrigger({ ...base, baseUrl: "https://example.com/airflow/", fetch }).trigger(
      DAG,
      "r",
      {},
    );
    expect(urls).toEqual([`https://example.com/airflow/api/v1/dags/${DAG}/dagRuns`]);
  });
});
