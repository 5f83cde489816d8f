// fromPowertoolsMetrics against the real Powertools for AWS Lambda Metrics (a dev dependency):
// the EMF documents it writes for our Metrics port, and that createEmfMetrics writes the same
// documents for the same calls.
import { Metrics } from "@aws-lambda-powertools/metrics";
import { createEmfMetrics, fromPowertoolsMetrics } from "@musicpipe/aws/metrics";
import { ConfigurationError, type Metrics as MetricsPort } from "@musicpipe/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { captureStdio, clearLambdaEnv } from "./lambda-fixtures.js";

let stdio: ReturnType<typeof captureStdio>;

beforeEach(() => {
  clearLambdaEnv();
  stdio = captureStdio();
});
afterEach(() => {
  stdio.restore();
  vi.unstubAllEnvs();
});

/** What one validate invocation records (see docs/observability.md). */
function validateInvocation(metrics: MetricsPort) {
  metrics.count("RowsRead", 5, { stage: "validate" });
  metrics.count("RowsKept", 4, { stage: "validate" });
  metrics.count("RowsDropped", 1, { reason: "unknown_user" });
  metrics.durationMs("StageDuration", 412, { stage: "validate" });
  metrics.count("FilesByStatus", 1, { stage: "validate", status: "SUCCESS" });
  metrics.count("FilesByStatus", 1, { status: "SUCCESS", stage: "validate" });
  metrics.count("Invocations", 1);
}

describe("fromPowertoolsMetrics", () => {
  it("publishes one document per dimension set through Powertools: namespace, service, units, values", async () => {
    const powertools = new Metrics({ namespace: "Musicpipe", serviceName: "musicpipe-stages" });
    const metrics = fromPowertoolsMetrics(powertools);
    expect(metrics.powertools).toBe(powertools);
    validateInvocation(metrics);
    expect(metrics.pending).toBe(7);
    expect(stdio.written).toEqual([]);
    await metrics.flush();
    expect(metrics.pending).toBe(0);
    const documents = stdio.json();
    expect(documents).toHaveLength(4);
    expect(stdio.written.every((w) => w.stream === "stdout")).toBe(true);
    expect(documents[0]).toEqual({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: "Musicpipe",
            Dimensions: [["service", "stage"]],
            Metrics: [
              { Name: "RowsRead", Unit: "Count" },
              { Name: "RowsKept", Unit: "Count" },
              { Name: "StageDuration", Unit: "Milliseconds" },
            ],
          },
        ],
      },
      service: "musicpipe-stages",
      stage: "validate",
      RowsRead: 5,
      RowsKept: 4,
      StageDuration: 412,
    });
    expect(
      documents.slice(1).map((d) => [(d._aws as never as EmfAws).CloudWatchMetrics[0].Dimensions, d]),
    ).toEqual([
      [[["service", "reason"]], expect.objectContaining({ reason: "unknown_user", RowsDropped: 1 })],
      [
        [["service", "stage", "status"]],
        expect.objectContaining({ status: "SUCCESS", FilesByStatus: [1, 1] }),
      ],
      [[["service"]], expect.objectContaining({ service: "musicpipe-stages", Invocations: 1 })],
    ]);
    const now = Date.now();
    expect((documents[0]!._aws as never as EmfAws).Timestamp).toBeGreaterThan(now - 60_000);
  });

  it("keeps the instance's default dimensions, and publishes metrics stored on it first, with their own", async () => {
    const powertools = new Metrics({
      namespace: "Musicpipe",
      serviceName: "musicpipe-stages",
      defaultDimensions: { environment: "prod" },
    });
    powertools.addDimension("tenant", "a");
    powertools.addMetric("TheirOwn", "Count", 1);
    const metrics = fromPowertoolsMetrics(powertools);
    metrics.count("StageErrors", 1, { stage: "load" });
    await metrics.flush();
    const [theirs, ours] = stdio.json();
    expect(theirs).toMatchObject({ tenant: "a", TheirOwn: 1 });
    expect("StageErrors" in theirs!).toBe(false);
    expect(ours).toMatchObject({
      service: "musicpipe-stages",
      environment: "prod",
      stage: "load",
      StageErrors: 1,
    });
    expect("tenant" in ours!).toBe(false);
    expect((ours!._aws as never as EmfAws).CloudWatchMetrics[0].Dimensions).toEqual([
      ["service", "environment", "stage"],
    ]);
  });

  it("splits as Powertools must: 100 metrics, 99 values of one metric per document", async () => {
    const metrics = fromPowertoolsMetrics(new Metrics({ namespace: "N", serviceName: "s" }));
    for (let i = 0; i < 150; i++) metrics.count(`M${i}`, i);
    for (let i = 0; i < 230; i++) metrics.durationMs("D", i, { stage: "x" });
    await metrics.flush();
    const documents = stdio.json();
    const plain = documents.filter((d) => d.stage === undefined);
    expect(plain.map((d) => (d._aws as never as EmfAws).CloudWatchMetrics[0].Metrics.length)).toEqual([
      100, 50,
    ]);
    const durations = documents.filter((d) => d.stage === "x").map((d) => d.D as number[]);
    expect(durations.map((d) => d.length)).toEqual([99, 99, 32]);
    expect(durations.flat()).toEqual(Array.from({ length: 230 }, (_, i) => i));
  });

  it("ignores what CloudWatch or Powertools would refuse, writes nothing for nothing, and never throws", async () => {
    const metrics = fromPowertoolsMetrics(new Metrics({ namespace: "N", serviceName: "s" }));
    metrics.count("A", Number.NaN);
    metrics.count("", 1);
    metrics.count("B", 1, { reason: "" });
    metrics.count("stage", 1, { stage: "validate" });
    metrics.durationMs("C", 1);
    metrics.count("C", 1); // one name, one unit: the first wins
    await metrics.flush();
    await metrics.flush(); // nothing recorded: no document, and no Powertools warning
    expect(stdio.json()).toEqual([expect.objectContaining({ C: 1 })]);
    expect(stdio.written).toHaveLength(1);
    const throwing = fromPowertoolsMetrics({
      addDimension() {},
      addMetric() {
        throw new RangeError("refused");
      },
      publishStoredMetrics() {
        throw new Error("closed");
      },
    });
    throwing.count("A", 1, { stage: "x" });
    await expect(throwing.flush()).resolves.toBeUndefined();
  });

  it("refuses what is not a Powertools Metrics", () => {
    expect(() => fromPowertoolsMetrics(undefined as never)).toThrow(ConfigurationError);
    expect(() => fromPowertoolsMetrics({ addMetric() {} } as never)).toThrow(/publishStoredMetrics/);
  });
});

interface EmfAws {
  Timestamp: number;
  CloudWatchMetrics: [
    { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] },
  ];
}

describe("createEmfMetrics and a Powertools Metrics", () => {
  it("write the same documents for the same calls (but the time)", async () => {
    const lines: string[] = [];
    const ours = createEmfMetrics({
      namespace: "Musicpipe",
      service: "musicpipe-stages",
      dimensions: { environment: "prod" },
      write: (line) => lines.push(line),
    });
    const theirs = fromPowertoolsMetrics(
      new Metrics({
        namespace: "Musicpipe",
        serviceName: "musicpipe-stages",
        defaultDimensions: { environment: "prod" },
      }),
    );
    for (const metrics of [ours, theirs]) {
      validateInvocation(metrics);
      for (let i = 0; i < 3; i++) metrics.durationMs("StageDuration", 100 + i, { stage: "load" });
      await metrics.flush();
    }
    const timeless = (document: Record<string, unknown>) =>
      JSON.parse(JSON.stringify(document).replace(/"Timestamp":\d+/, '"Timestamp":0')) as Record<
        string,
        unknown
      >;
    const mine = lines.map((line) => timeless(JSON.parse(line) as Record<string, unknown>));
    const powertools = stdio.json().map(timeless);
    expect(mine).toHaveLength(5);
    expect(mine).toEqual(powertools);
    expect(mine.map((d) => Object.keys(d))).toEqual(powertools.map((d) => Object.keys(d)));
    expect(lines.map((line) => line.replace(/"Timestamp":\d+/, ""))).toEqual(
      stdio.written.map((w) => w.text.replace(/"Timestamp":\d+/, "")),
    );
  });
});
