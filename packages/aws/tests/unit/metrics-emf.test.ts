// EMF metrics: buffering, every value kept, one document per dimension set led by the service
// (as Powertools for AWS Lambda writes them), CloudWatch's limits.
import { createEmfMetrics } from "@musicpipe/aws/metrics";
import { ConfigurationError } from "@musicpipe/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearLambdaEnv } from "./lambda-fixtures.js";

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [member: string]: unknown;
}

function recorder(options: Parameters<typeof createEmfMetrics>[0] = {}) {
  const lines: string[] = [];
  const metrics = createEmfMetrics({ now: () => 1_750_000_000_000, ...options, write: (l) => lines.push(l) });
  const documents = () => lines.map((l) => JSON.parse(l) as EmfDocument);
  return { metrics, lines, documents };
}

beforeEach(() => clearLambdaEnv());
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("createEmfMetrics", () => {
  it("writes nothing until flush, then one JSON line per dimension set, service first", async () => {
    const { metrics, lines, documents } = recorder();
    metrics.count("RowsRead", 100, { stage: "validate" });
    metrics.count("RowsDropped", 3, { reason: "unknown_track" });
    metrics.count("RowsDropped", 2, { reason: "bad_time" });
    expect(lines).toEqual([]);
    expect(metrics.pending).toBe(3);
    await metrics.flush();
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.endsWith("\n") && !line.slice(0, -1).includes("\n")).toBe(true);
    expect(documents()[0]).toEqual({
      _aws: {
        Timestamp: 1_750_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: "Musicpipe",
            Dimensions: [["service", "stage"]],
            Metrics: [{ Name: "RowsRead", Unit: "Count" }],
          },
        ],
      },
      service: "musicpipe",
      stage: "validate",
      RowsRead: 100,
    });
    expect(documents().map((d) => [d.reason, d.RowsDropped])).toEqual([
      [undefined, undefined],
      ["unknown_track", 3],
      ["bad_time", 2],
    ]);
    expect(metrics.pending).toBe(0);
  });

  it("keeps every count of one name and dimension set as a value array, and starts over after a flush", async () => {
    const { metrics, documents } = recorder();
    metrics.count("FilesByStatus", 1, { stage: "validate", status: "SUCCESS" });
    metrics.count("FilesByStatus", 2, { status: "SUCCESS", stage: "validate" });
    metrics.count("FilesByStatus", 1, { stage: "validate", status: "FAILED" });
    expect(metrics.pending).toBe(3);
    await metrics.flush();
    metrics.count("FilesByStatus", 1, { stage: "validate", status: "SUCCESS" });
    await metrics.flush();
    expect(documents().map((d) => [d.status, d.FilesByStatus])).toEqual([
      ["SUCCESS", [1, 2]],
      ["FAILED", 1],
      ["SUCCESS", 1],
    ]);
    // The names in the order first given, after the service.
    expect(documents()[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "stage", "status"]]);
  });

  it("keeps durations as Milliseconds samples: one value alone, several as an EMF value array", async () => {
    const { metrics, documents } = recorder();
    metrics.durationMs("StageDuration", 120, { stage: "load" });
    metrics.durationMs("StageDuration", 80, { stage: "validate" });
    metrics.durationMs("StageDuration", 40, { stage: "validate" });
    await metrics.flush();
    const [load, validate] = documents();
    expect(load?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: "StageDuration", Unit: "Milliseconds" },
    ]);
    expect(load?.StageDuration).toBe(120);
    expect(validate?.StageDuration).toEqual([80, 40]);
  });

  it("puts every metric of one dimension set in one document, with service, default dimensions and namespace", async () => {
    const { metrics, documents } = recorder({
      namespace: "Acme/Music",
      service: "stages",
      dimensions: { environment: "prod" },
    });
    metrics.count("RowsRead", 10, { stage: "validate" });
    metrics.count("RowsKept", 9, { stage: "validate" });
    metrics.durationMs("StageDuration", 5, { stage: "validate" });
    metrics.count("Invocations", 1);
    await metrics.flush();
    const [first, second] = documents();
    expect(first?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: "Acme/Music",
        Dimensions: [["service", "environment", "stage"]],
        Metrics: [
          { Name: "RowsRead", Unit: "Count" },
          { Name: "RowsKept", Unit: "Count" },
          { Name: "StageDuration", Unit: "Milliseconds" },
        ],
      },
    ]);
    expect(first).toMatchObject({
      service: "stages",
      environment: "prod",
      stage: "validate",
      RowsRead: 10,
      RowsKept: 9,
      StageDuration: 5,
    });
    expect(second).toMatchObject({ service: "stages", environment: "prod", Invocations: 1 });
    expect(second?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "environment"]]);
  });

  it("reads the namespace and the service from Powertools' variables; options win", async () => {
    vi.stubEnv("POWERTOOLS_METRICS_NAMESPACE", "FromEnv");
    vi.stubEnv("POWERTOOLS_SERVICE_NAME", "from-env");
    const env = recorder();
    env.metrics.count("A", 1, { service: "per-call" });
    env.metrics.count("A", 1);
    await env.metrics.flush();
    expect(env.documents().map((d) => [d._aws.CloudWatchMetrics[0]?.Namespace, d.service])).toEqual([
      ["FromEnv", "per-call"],
      ["FromEnv", "from-env"],
    ]);
    const given = recorder({ namespace: "Given", service: "given" });
    given.metrics.count("A", 1);
    await given.metrics.flush();
    expect(given.documents()[0]).toMatchObject({
      service: "given",
      _aws: { CloudWatchMetrics: [{ Namespace: "Given" }] },
    });
  });

  it("splits documents at 100 metrics and value arrays at 100 samples", async () => {
    const { metrics, documents } = recorder();
    for (let i = 0; i < 150; i++) metrics.count(`M${i}`, i);
    for (let i = 0; i < 230; i++) metrics.durationMs("D", i, { stage: "x" });
    await metrics.flush();
    const docs = documents();
    const plain = docs.filter((d) => d.stage === undefined);
    expect(plain.map((d) => d._aws.CloudWatchMetrics[0]?.Metrics.length)).toEqual([100, 50]);
    const durations = docs.filter((d) => d.stage === "x").map((d) => d.D as number[]);
    expect(durations.map((d) => d.length)).toEqual([100, 100, 30]);
    expect(durations.flat()).toEqual(Array.from({ length: 230 }, (_, i) => i));
  });

  it("ignores values CloudWatch would refuse instead of failing the pipeline", async () => {
    const { metrics, lines } = recorder();
    metrics.count("A", Number.NaN);
    metrics.count("A", Number.POSITIVE_INFINITY);
    metrics.count("", 1);
    metrics.count("_aws", 1);
    metrics.count("B", 1, { reason: "" });
    metrics.count("stage", 1, { stage: "validate" });
    metrics.count("service", 1);
    metrics.durationMs("C", 1);
    metrics.count("C", 1); // one name, one unit: the first wins
    await metrics.flush();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ C: 1 });
  });

  it("checks its options at construction", () => {
    expect(() => createEmfMetrics({ namespace: "" })).toThrow(ConfigurationError);
    expect(() => createEmfMetrics({ namespace: "AWS/Lambda" })).toThrow(/AWS\//);
    expect(() => createEmfMetrics({ namespace: "bad\nname" })).toThrow(ConfigurationError);
    expect(() => createEmfMetrics({ dimensions: { stage: "" } })).toThrow(/dimension 'stage'/);
    expect(() => createEmfMetrics({ service: "" })).toThrow(/'service'/);
    // 30 at most, the service included.
    expect(() =>
      createEmfMetrics({
        dimensions: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`d${i}`, "x"])),
      }),
    ).toThrow(/at most 30/);
    expect(() =>
      createEmfMetrics({
        dimensions: Object.fromEntries(Array.from({ length: 29 }, (_, i) => [`d${i}`, "x"])),
      }),
    ).not.toThrow();
    expect(() => createEmfMetrics({ write: "stdout" as never })).toThrow(/'write'/);
  });

  it("writes to standard output by default", async () => {
    const original = process.stdout.write;
    const seen: string[] = [];
    process.stdout.write = ((chunk: string) => {
      seen.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const metrics = createEmfMetrics();
      metrics.count("RowsRead", 1);
      await metrics.flush();
    } finally {
      process.stdout.write = original;
    }
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]!)).toMatchObject({ RowsRead: 1 });
  });
});
