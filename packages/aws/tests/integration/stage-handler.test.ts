// The stage Lambda handler end to end on DynamoDB Local and s3rver: the four stages through
// the handler as the Airflow DAG invokes them, then a rejected file.
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { createDynamoDbTables, ensureTables, type TableNames } from "@musicpipe/aws/dynamodb";
import { createJsonLogger, createStageHandler, type StageHandlerResult } from "@musicpipe/aws/lambda";
import { createEmfMetrics } from "@musicpipe/aws/metrics";
import { createS3ObjectStore } from "@musicpipe/aws/s3";
import type { FailureNotice, StageResult } from "@musicpipe/core";
import { beforeAll, describe, expect, it } from "vitest";
import { localDynamoDbClient, localS3Client, uniqueName } from "./clients.js";

const s3 = localS3Client();
const dynamodb = localDynamoDbClient();
const bucket = uniqueName("musicpipe-stages");
const tableNames: TableNames = {
  kpis: uniqueName("kpis"),
  topSongs: uniqueName("top-songs"),
  topGenres: uniqueName("top-genres"),
  files: uniqueName("files"),
  partials: uniqueName("partials"),
  dayStates: uniqueName("day-states"),
};
const NOW = new Date("2025-07-01T08:00:00.000Z");

const logLines: string[] = [];
const emfLines: string[] = [];
const notices: FailureNotice[] = [];
const handler = createStageHandler({
  s3Client: s3,
  dynamoDbClient: dynamodb,
  tableNames,
  clock: { now: () => NOW },
  // One bad row in five is 20%: above the default 10% threshold, so raise it.
  validation: { maxBadRowShare: 0.25 },
  logger: createJsonLogger({ level: "debug", write: (line) => logLines.push(line) }),
  metrics: createEmfMetrics({ write: (line) => emfLines.push(line) }),
  notifier: {
    async notify(notice) {
      notices.push(notice);
    },
  },
});

const put = (key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

async function keysUnder(prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

/** Invokes the handler like Lambda does: the result must survive JSON both ways unchanged. */
async function invokeAny(event: Record<string, unknown>): Promise<StageHandlerResult> {
  const result = await handler(JSON.parse(JSON.stringify(event)), { awsRequestId: uniqueName("req") });
  expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  return result;
}

const invoke = (event: Record<string, unknown>) => invokeAny(event) as Promise<StageResult>;

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await ensureTables({ client: dynamodb, tableNames });
  await put(
    "data/raw/songs/songs.csv",
    "track_id,track_name,track_genre,duration_ms,artists\nt1,Song One,pop,200000,A\nt2,Song Two,rock,180000,B\nt3,Song Three,pop,100000,C\n",
  );
  await put("data/raw/users/users.csv", "user_id,user_name\nu1,Ann Example\nu2,Bob Example\n");
});

describe("the stage Lambda handler on S3 and DynamoDB (local servers)", () => {
  it("runs validate, transform, load and archive on a streams file, as the DAG does", async () => {
    const key = "data/raw/streams/streams-1.csv";
    await put(
      key,
      [
        "user_id,track_id,listen_time",
        "u1,t1,2025-06-22 10:00:00",
        "u2,t1,2025-06-22 11:00:00",
        "u1,t2,2025-06-22T12:00:00Z",
        "u2,t3,2025-06-23 09:00:00",
        "u9,t1,2025-06-23 09:30:00",
      ].join("\n"),
    );
    const runId = "manual__2025-07-01T08:00:00";

    const validate = await invoke({ stage: "validate", bucket, key, runId });
    expect(validate).toMatchObject({ fileKey: key, stage: "validate", status: "SUCCESS" });
    expect(validate.rowCounts).toMatchObject({ read: 5, kept: 4, bad: 1 });
    expect(validate.listenDates).toEqual(["2025-06-22", "2025-06-23"]);
    expect(validate.contentSha256).toMatch(/^[0-9a-f]{64}$/);

    // The Airflow-style event: the object in `conf`.
    const transform = await invoke({ stage: "transform", conf: { bucket, key }, runId });
    expect(transform).toMatchObject({ stage: "transform", status: "SUCCESS" });
    const load = await invoke({ stage: "load", bucket, key, runId });
    expect(load).toMatchObject({ stage: "load", status: "SUCCESS" });
    const archive = await invoke({ stage: "archive", bucket, key, runId });
    expect(archive).toMatchObject({ stage: "archive", status: "SUCCESS" });
    expect(archive.movedTo).toMatch(
      /^data\/archive\/2025\/07\/01\/20250701T080000000Z_[0-9a-f]{12}_streams-1\.csv$/,
    );
    expect(await keysUnder("data/raw/streams/")).toEqual([]);
    expect(await keysUnder("data/archive/")).toEqual([archive.movedTo]);

    // A retried stage after success changes nothing.
    expect(await invoke({ stage: "load", bucket, key, runId })).toMatchObject({ status: "SUCCESS" });

    const tables = createDynamoDbTables({
      client: dynamodb,
      tableNames,
      partialObjects: createS3ObjectStore({ bucket, client: s3 }),
    });
    const day = await tables.kpis.getDay("2025-06-22");
    expect(day?.genreStats).toEqual([
      {
        listenDate: "2025-06-22",
        genre: "pop",
        listenCount: 2,
        uniqueListeners: 2,
        totalListeningTimeMs: 400000,
        avgListeningTimePerUserMs: 200000,
      },
      {
        listenDate: "2025-06-22",
        genre: "rock",
        listenCount: 1,
        uniqueListeners: 1,
        totalListeningTimeMs: 180000,
        avgListeningTimePerUserMs: 180000,
      },
    ]);
    expect(day?.topGenres.map((g) => [g.rank, g.genre, g.listenCount])).toEqual([
      [1, "pop", 2],
      [2, "rock", 1],
    ]);
    expect(day?.topSongs.filter((s) => s.genre === "pop").map((s) => [s.rank, s.trackId])).toEqual([
      [1, "t1"],
    ]);
    expect((await tables.kpis.getDay("2025-06-23"))?.genreStats).toEqual([
      expect.objectContaining({ genre: "pop", listenCount: 1, totalListeningTimeMs: 100000 }),
    ]);
    expect((await keysUnder("data/kpis/2025/06/22/")).length).toBe(3);
    expect(notices).toEqual([]);

    // Logs are JSON lines with the file key and run id, and never a user name.
    const logs = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.filter((l) => l.message === "stage finished")).toHaveLength(5);
    expect(
      logs.filter((l) => l.message === "stage finished").every((l) => l.fileKey === key && l.runId === runId),
    ).toBe(true);
    expect(logLines.join("")).not.toMatch(/Ann Example|Bob Example/);

    // One EMF flush per invocation, with the stage metrics.
    const emf = emfLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const byStatus = emf.filter((d) => "FilesByStatus" in d).map((d) => [d.stage, d.status, d.FilesByStatus]);
    expect(byStatus).toEqual([
      ["validate", "SUCCESS", 1],
      ["transform", "SUCCESS", 1],
      ["load", "SUCCESS", 1],
      ["archive", "SUCCESS", 1],
      ["load", "SUCCESS", 1],
    ]);
    expect(emf.find((d) => "RowsRead" in d)).toMatchObject({ stage: "validate", RowsRead: 5, RowsKept: 4 });
    expect(emf.find((d) => "RowsDropped" in d)).toMatchObject({ reason: "unknown_user", RowsDropped: 1 });
    expect(emf.filter((d) => "StageDuration" in d).map((d) => d.stage)).toEqual([
      "validate",
      "transform",
      "load",
      "archive",
      "load",
    ]);
  });

  it("fans out: validate and transform per file, one load per listen date, then load and archive per file", async () => {
    const keys = ["data/raw/streams/fan-a.csv", "data/raw/streams/fan-b.csv"];
    await put(
      keys[0]!,
      "user_id,track_id,listen_time\nu1,t2,2025-06-24 10:00:00\nu2,t2,2025-06-25 10:00:00\n",
    );
    await put(
      keys[1]!,
      "user_id,track_id,listen_time\nu2,t2,2025-06-24 11:00:00\nu2,t3,2025-06-24 12:00:00\n",
    );
    const runId = "manual__fanout";
    const dates = new Set<string>();
    for (const key of keys) {
      expect(await invoke({ stage: "validate", bucket, key, runId })).toMatchObject({ status: "SUCCESS" });
      const transform = await invoke({ stage: "transform", bucket, key, runId });
      for (const date of transform.listenDates ?? []) dates.add(date);
    }
    expect([...dates].sort()).toEqual(["2025-06-24", "2025-06-25"]);
    for (const listenDate of [...dates].sort()) {
      expect(await invokeAny({ stage: "load_date", bucket, listenDate, runId })).toEqual({
        stage: "load_date",
        status: "SUCCESS",
        listenDate,
        written: true,
        sources: listenDate === "2025-06-24" ? 2 : 1,
        absorbed: listenDate === "2025-06-24" ? 2 : 1,
      });
    }
    // Loading a date again finds it up to date.
    expect(await invokeAny({ stage: "load_date", conf: { bucket }, listenDate: "2025-06-24" })).toMatchObject(
      {
        written: false,
      },
    );
    for (const key of keys) {
      expect(await invoke({ stage: "load", bucket, key, runId })).toMatchObject({ status: "SUCCESS" });
      expect(await invoke({ stage: "archive", bucket, key, runId })).toMatchObject({ status: "SUCCESS" });
    }
    const tables = createDynamoDbTables({
      client: dynamodb,
      tableNames,
      partialObjects: createS3ObjectStore({ bucket, client: s3 }),
    });
    const day = await tables.kpis.getDay("2025-06-24");
    expect(day?.genreStats.map((g) => [g.genre, g.listenCount, g.uniqueListeners])).toEqual([
      ["pop", 1, 1],
      ["rock", 2, 2],
    ]);
    expect(day?.sourceCount).toBe(2);
  });

  it("fans out over listener shards: load_date per { listenDate, shard }, then finish_date", async () => {
    const sharded = createStageHandler({
      s3Client: s3,
      dynamoDbClient: dynamodb,
      tableNames,
      clock: { now: () => NOW },
      listenerShards: 3,
      logger: createJsonLogger({ write: () => {} }),
      metrics: createEmfMetrics({ write: () => {} }),
    });
    const call = async (event: Record<string, unknown>) => {
      const result = await sharded(JSON.parse(JSON.stringify(event)));
      expect(JSON.parse(JSON.stringify(result))).toEqual(result);
      return result as unknown as Record<string, unknown>;
    };
    const keys = ["data/raw/streams/shard-a.csv", "data/raw/streams/shard-b.csv"];
    await put(
      keys[0]!,
      "user_id,track_id,listen_time\nu1,t1,2025-06-26 10:00:00\nu2,t1,2025-06-26 11:00:00\n",
    );
    await put(
      keys[1]!,
      "user_id,track_id,listen_time\nu2,t3,2025-06-26 12:00:00\nu1,t2,2025-06-26 13:00:00\n",
    );
    for (const key of keys) {
      expect(await call({ stage: "validate", bucket, key })).toMatchObject({ status: "SUCCESS" });
      expect(await call({ stage: "transform", bucket, key })).toMatchObject({ status: "SUCCESS" });
    }
    const listenDate = "2025-06-26";
    // Shards 0 and 1 loaded, shard 2 not yet: finishing waits.
    expect(await call({ stage: "load_date", bucket, listenDate, shard: 0 })).toMatchObject({
      shard: 0,
      shards: 3,
      absorbed: 2,
    });
    expect(await call({ stage: "load_date", bucket, listenDate, shard: 1 })).toMatchObject({
      shard: 1,
      absorbed: 2,
    });
    expect(await call({ stage: "finish_date", bucket, listenDate })).toMatchObject({
      status: "PENDING",
      written: false,
    });
    expect(await call({ stage: "load_date", bucket, listenDate, shard: 2 })).toMatchObject({
      shard: 2,
      absorbed: 2,
    });
    expect(await call({ stage: "finish_date", bucket, listenDate })).toMatchObject({
      status: "SUCCESS",
      written: true,
      sources: 2,
      deleted: 2,
    });
    const tables = createDynamoDbTables({
      client: dynamodb,
      tableNames,
      partialObjects: createS3ObjectStore({ bucket, client: s3 }),
    });
    const day = await tables.kpis.getDay(listenDate);
    expect(day?.genreStats.map((g) => [g.genre, g.listenCount, g.uniqueListeners])).toEqual([
      ["pop", 3, 2],
      ["rock", 1, 1],
    ]);
    expect(day?.sourceCount).toBe(2);
    const pointers = [];
    for await (const p of tables.days.list()) if (p.listenDate === listenDate) pointers.push(p.shard);
    expect(pointers).toEqual([0, 1, 2]);
  });

  it("returns FAILED for an invalid file (no throw), moves it to the error prefix and notifies once", async () => {
    const key = "data/raw/streams/broken.csv";
    await put(key, "user_id,track_id\nu1,t1\n");
    const runId = "manual__broken";
    const validate = await invoke({ stage: "validate", bucket, key, runId });
    expect(validate).toMatchObject({
      stage: "validate",
      status: "FAILED",
      rejection: { code: "missing_column" },
    });
    expect(validate.movedTo).toMatch(/^data\/error\/20250701T080000000Z_[0-9a-f]{12}_broken\.csv$/);
    expect(await keysUnder("data/error/")).toEqual([validate.movedTo]);
    expect(notices).toEqual([
      { fileKey: key, stage: "validate", code: "missing_column", message: validate.message, runId },
    ]);
    // Retried, and the later stages invoked anyway: nothing more happens, nobody is told twice.
    expect(await invoke({ stage: "validate", bucket, key, runId })).toMatchObject({ status: "FAILED" });
    expect(await invoke({ stage: "transform", bucket, key, runId })).toMatchObject({ status: "SKIPPED" });
    expect(notices).toHaveLength(1);
  });

  it("throws for a stage out of order, and notifies with the stage and code", async () => {
    const key = "data/raw/streams/never-validated.csv";
    await put(key, "user_id,track_id,listen_time\nu1,t1,2025-06-22 10:00:00\n");
    await expect(handler({ stage: "load", bucket, key, runId: "r-order" })).rejects.toMatchObject({
      code: "stage_out_of_order",
    });
    expect(notices.at(-1)).toMatchObject({
      fileKey: key,
      stage: "load",
      code: "stage_out_of_order",
      runId: "r-order",
    });
  });
});
