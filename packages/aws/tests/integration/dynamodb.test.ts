// The DynamoDB table adapters against AWS's DynamoDB Local (started by the global setup).
import { createHash, randomBytes } from "node:crypto";
import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { ConditionFailedError, ConfigurationError, type DayKpis, type FileRecord } from "@musicpipe/core";
import { createMemoryObjectStore } from "@musicpipe/memory";
import {
  runDayStateStoreConformance,
  runFileStatusStoreConformance,
  runKpiStoreConformance,
  runPartialStoreConformance,
} from "@musicpipe/memory/conformance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDynamoDbTables,
  type DynamoDbTables,
  ensureTables,
  TableItemFormatError,
  type TableNames,
  UNFINISHED_INDEX,
} from "../../src/dynamodb/index.js";
import { localDynamoDbClient, uniqueName } from "./clients.js";

const tableNames: TableNames = {
  kpis: uniqueName("kpis"),
  topSongs: uniqueName("top-songs"),
  topGenres: uniqueName("top-genres"),
  files: uniqueName("files"),
  partials: uniqueName("partials"),
  dayStates: uniqueName("day-states"),
};
const objects = createMemoryObjectStore();

let raw: DynamoDBClient;
let shared: DynamoDbTables | undefined;

/** One adapter set for the suites; built on first use so that a skipped file builds nothing. */
function tables(): DynamoDbTables {
  shared ??= createDynamoDbTables({ client: raw, tableNames, partialObjects: objects });
  return shared;
}

beforeAll(async () => {
  raw = localDynamoDbClient();
  const result = await ensureTables({ client: raw, tableNames });
  expect(result.created).toHaveLength(6);
});

afterAll(async () => {
  await Promise.all(
    Object.values(tableNames).map((TableName) => raw.send(new DeleteTableCommand({ TableName }))),
  );
});

runKpiStoreConformance({ name: "DynamoDB Local", create: () => tables().kpis });
runFileStatusStoreConformance({ name: "DynamoDB Local", create: () => tables().files });
runPartialStoreConformance({ name: "DynamoDB Local", create: () => tables().partials });
runDayStateStoreConformance({ name: "DynamoDB Local", create: () => tables().days });

/** A far-future date of its own (the conformance suites use years 3000-9999). */
function uniqueDate(): string {
  const n = randomBytes(4).readUInt32BE() % 9_000;
  return `${String(10_000 + n).padStart(5, "0")}-01-${String(1 + (n % 28)).padStart(2, "0")}`;
}

function genres(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
}

/** A day as the pipeline builds it (sorted by genre, songs by rank), with awkward numbers. */
function day(
  listenDate: string,
  names: readonly string[],
  sources: readonly string[],
  trackNameLength = 12,
): Omit<DayKpis, "version"> {
  return {
    listenDate,
    genreStats: names.map((genre, i) => ({
      listenDate,
      genre,
      listenCount: 1_000 + i,
      uniqueListeners: 3,
      totalListeningTimeMs: 9_007_199_254_740_000 + i,
      avgListeningTimePerUserMs: (1_000_001 + i) / 3,
    })),
    topSongs: names.flatMap((genre) =>
      [1, 2, 3].map((rank) => ({
        listenDate,
        genre,
        rank,
        trackId: `${genre}-t${rank}`,
        trackName: `«${genre}» ${"x".repeat(trackNameLength)}`,
        ...(rank === 2 ? {} : { artists: "A;B" }),
        listenCount: 10 - rank,
      })),
    ),
    topGenres: names
      .slice(0, 5)
      .map((genre, i) => ({ listenDate, rank: i + 1, genre, listenCount: 1_000 + i })),
    sourceCount: sources.length,
    sourcesDigest: createHash("sha256").update(sources.join(",")).digest("hex"),
    updatedAt: new Date().toISOString(),
  };
}

/** The sort keys of a date's items in a table, straight from DynamoDB. */
async function storedKeys(table: string, listenDate: string, sortKey: string): Promise<string[]> {
  const keys: string[] = [];
  let start: Record<string, never> | undefined;
  do {
    const out = await raw.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "listen_date = :d",
        ExpressionAttributeValues: { ":d": { S: listenDate } },
        ProjectionExpression: sortKey,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) keys.push(item[sortKey]?.S ?? "?");
    start = out.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start !== undefined);
  return keys;
}

/**
 * A client whose calls of one operation (TransactWriteItems unless told) pass through `hook`
 * first (called with 1, 2, ... for each call), to pause or break a write or read half-way.
 */
function hookedClient(
  hook: (call: number) => Promise<void> | void,
  operation = "TransactWrite",
): DynamoDBClient {
  const client = localDynamoDbClient();
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName?.startsWith(operation)) await hook(++calls);
      return next(args);
    },
    { step: "initialize", name: "testTransactionHook" },
  );
  return client;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("ensureTables", () => {
  it("is idempotent: a second run finds every table", async () => {
    const again = await ensureTables({ client: raw, tableNames });
    expect(again.created).toEqual([]);
    expect(again.existing).toEqual(Object.values(tableNames).sort());
  });

  it("refuses an existing table whose key is not the expected one", async () => {
    const TableName = uniqueName("wrong-key");
    await raw.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      }),
    );
    const error = await ensureTables({ client: raw, tableNames: { ...tableNames, files: TableName } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(TableName);
    await raw.send(new DeleteTableCommand({ TableName }));
  });
});

describe("DynamoDB file status store", () => {
  const record = (fileKey: string, finished: boolean) => ({
    fileKey,
    fileType: "streams" as const,
    etag: "e",
    size: 1,
    deliveries: 1,
    attempts: 1,
    validationStatus: "SUCCESS" as const,
    kpiIngestionStatus: finished ? ("SUCCESS" as const) : ("PENDING" as const),
    archivalStatus: finished ? ("SUCCESS" as const) : ("PENDING" as const),
    ...(finished ? { archivedKey: `data/archive/2025/06/22/x_${fileKey.split("/").pop()}` } : {}),
  });

  it("keeps only unfinished records in the sparse index", async () => {
    const ns = uniqueName("idx");
    const files = tables().files;
    const open = await files.put(record(`${ns}/open.csv`, false), 0);
    const done = await files.put(record(`${ns}/done.csv`, false), 0);
    await files.put(record(`${ns}/done.csv`, true), done.version);
    const out = await raw.send(
      new QueryCommand({
        TableName: tableNames.files,
        IndexName: UNFINISHED_INDEX.name,
        KeyConditionExpression: "#u = :yes",
        ExpressionAttributeNames: { "#u": UNFINISHED_INDEX.attribute },
        ExpressionAttributeValues: { ":yes": { S: "1" } },
      }),
    );
    const indexed = (out.Items ?? []).map((item) => item.file_key?.S).filter((k) => k?.startsWith(`${ns}/`));
    expect(indexed).toEqual([open.fileKey]);
  });

  it("lists unfinished records by scanning a table made without the index", async () => {
    const TableName = uniqueName("files-no-index");
    await raw.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "file_key", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "file_key", KeyType: "HASH" }],
      }),
    );
    const files = createDynamoDbTables({
      client: raw,
      tableNames: { ...tableNames, files: TableName },
      partialObjects: objects,
    }).files;
    await files.put(record("b.csv", false), 0);
    await files.put(record("a.csv", true), 0);
    await files.put(record("c.csv", false), 0);
    const listed: string[] = [];
    for await (const r of files.listUnfinished!()) listed.push(r.fileKey);
    expect(listed).toEqual(["b.csv", "c.csv"]);
    await raw.send(new DeleteTableCommand({ TableName }));
  });
});

describe("DynamoDB KPI store", () => {
  it("lets exactly one of two concurrent many-genre writes win, and keeps only the winner's items", async () => {
    const date = uniqueDate();
    const a = day(date, genres("a", 40), ["aa"]);
    const b = day(date, genres("b", 30), ["bb"]);
    const results = await Promise.allSettled([tables().kpis.putDay(a, 0), tables().kpis.putDay(b, 0)]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(ConditionFailedError);
    const winner = results[0]?.status === "fulfilled" ? a : b;
    expect(await tables().kpis.getDay(date)).toEqual({ ...winner, version: 1 });
    const prefix = winner === a ? "GENRE_a-" : "GENRE_b-";
    const kpiTypes = await storedKeys(tableNames.kpis, date, "kpi_type");
    expect(kpiTypes).toHaveLength(winner.genreStats.length);
    expect(kpiTypes.every((type) => type.startsWith(prefix))).toBe(true);
  });

  it("never lets an overtaken write land: the newer writer wins and the older one fails", async () => {
    const date = uniqueDate();
    const paused = deferred();
    const gate = deferred();
    const slowClient = hookedClient(async (call) => {
      if (call === 2) {
        paused.resolve();
        await gate.promise;
      }
    });
    const slow = createDynamoDbTables({ client: slowClient, tableNames, partialObjects: objects }).kpis;
    const older = slow.putDay(day(date, genres("old", 60), ["aa"]), 0);
    older.catch(() => undefined);
    await paused.promise; // the claim and the first transaction (24 items) have landed

    const seen = await tables().kpis.getDay(date);
    expect(seen).toMatchObject({ version: 1, sourceCount: 0, genreStats: [], topSongs: [], topGenres: [] });
    const newer = day(date, genres("new", 4), ["aa", "bb"]);
    expect(await tables().kpis.putDay(newer, 1)).toEqual({ ...newer, version: 2 });

    gate.resolve();
    const error = await older.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionFailedError);
    expect((error as Error).message).toContain(date);
    expect(await tables().kpis.getDay(date)).toEqual({ ...newer, version: 2 });
    expect(await storedKeys(tableNames.kpis, date, "kpi_type")).toEqual(genres("GENRE_new", 4));
    expect(await storedKeys(tableNames.topSongs, date, "track_genre")).toEqual(genres("new", 4));
  });

  it("reads an interrupted write as its version without sources, and the next write replaces it", async () => {
    const date = uniqueDate();
    const broken = hookedClient((call) => {
      if (call === 3) throw Object.assign(new Error("injected crash"), { name: "InjectedCrash" });
    });
    const crashing = createDynamoDbTables({ client: broken, tableNames, partialObjects: objects }).kpis;
    await expect(crashing.putDay(day(date, genres("old", 60), ["aa"]), 0)).rejects.toThrow("injected crash");

    const interrupted = await tables().kpis.getDay(date);
    expect(interrupted).toMatchObject({ listenDate: date, version: 1, sourceCount: 0, genreStats: [] });
    const listed: string[] = [];
    for await (const d of tables().kpis.listDates()) listed.push(d);
    expect(listed).toContain(date);

    const next = day(date, genres("next", 7), ["aa", "bb"]);
    await tables().kpis.putDay(next, interrupted?.version ?? -1);
    expect(await tables().kpis.getDay(date)).toEqual({ ...next, version: 2 });
    // The 48 items the crashed write left are gone.
    expect(await storedKeys(tableNames.kpis, date, "kpi_type")).toEqual(genres("GENRE_next", 7));
    expect(await storedKeys(tableNames.topSongs, date, "track_genre")).toEqual(genres("next", 7));
  });

  it("reads a consistent day when a write lands between reading the commit item and the items", async () => {
    const date = uniqueDate();
    await tables().kpis.putDay(day(date, genres("first", 3), ["aa"]), 0);
    const second = day(date, genres("second", 2), ["aa", "bb"]);
    const reader = createDynamoDbTables({
      client: hookedClient(async (call) => {
        if (call === 1) await tables().kpis.putDay(second, 1);
      }, "Query"),
      tableNames,
      partialObjects: objects,
    }).kpis;
    expect(await reader.getDay(date)).toEqual({ ...second, version: 2 });
  });

  it("writes a 60-genre day over several transactions, reads back over 1 MB, and drops removed genres", async () => {
    const date = uniqueDate();
    // 60 top-songs items of ~21 KB: more than one 1 MB Query page.
    const full = day(date, genres("g", 60), ["aa", "bb", "cc"], 7_000);
    expect(await tables().kpis.putDay(full, 0)).toEqual({ ...full, version: 1 });
    const firstPage = await raw.send(
      new QueryCommand({
        TableName: tableNames.topSongs,
        KeyConditionExpression: "listen_date = :d",
        ExpressionAttributeValues: { ":d": { S: date } },
      }),
    );
    expect(firstPage.LastEvaluatedKey).toBeDefined();
    expect(await tables().kpis.getDay(date)).toEqual({ ...full, version: 1 });

    const fewer = day(date, genres("g", 60).slice(20), ["aa", "bb", "cc", "dd"], 7_000);
    await tables().kpis.putDay(fewer, 1);
    expect(await tables().kpis.getDay(date)).toEqual({ ...fewer, version: 2 });
    expect(await storedKeys(tableNames.kpis, date, "kpi_type")).toEqual(
      genres("g", 60)
        .slice(20)
        .map((g) => `GENRE_${g}`),
    );
    expect(await storedKeys(tableNames.topSongs, date, "track_genre")).toHaveLength(40);
  });

  it("stores numbers as DynamoDB numbers and reads them back as the same numbers", async () => {
    const date = uniqueDate();
    const written = day(date, ["pop"], ["aa"]);
    await tables().kpis.putDay(written, 0);
    const out = await raw.send(
      new GetItemCommand({
        TableName: tableNames.kpis,
        Key: { listen_date: { S: date }, kpi_type: { S: "GENRE_pop" } },
      }),
    );
    expect(out.Item?.listen_count).toEqual({ N: "1000" });
    expect(out.Item?.total_listening_time_ms).toEqual({ N: "9007199254740000" });
    expect(out.Item?.avg_listening_time_per_user_ms?.N).toBeDefined();
    expect(out.Item?.source_files).toEqual({ N: "1" });
    const read = await tables().kpis.getDay(date);
    expect(read?.genreStats[0]?.avgListeningTimePerUserMs).toBe(1_000_001 / 3);
    expect(read?.genreStats[0]?.totalListeningTimeMs).toBe(9_007_199_254_740_000);
    const top = await raw.send(
      new GetItemCommand({ TableName: tableNames.topGenres, Key: { listen_date: { S: date } } }),
    );
    expect(top.Item?.top_genres?.L?.[0]?.M?.listen_count).toEqual({ N: "1000" });
    expect(top.Item?.state).toEqual({ S: "complete" });
    expect(top.Item?.version).toEqual({ N: "1" });
  });

  it("refuses counts that are not safe integers before writing anything", async () => {
    const date = uniqueDate();
    const bad = day(date, ["pop"], []);
    const unsafe = { ...bad, genreStats: [{ ...bad.genreStats[0]!, listenCount: 2 ** 53 }] };
    await expect(tables().kpis.putDay(unsafe, 0)).rejects.toBeInstanceOf(ConfigurationError);
    expect(await tables().kpis.getDay(date)).toBeUndefined();
  });

  it("takes over a date that the seed pipeline wrote (items without a version)", async () => {
    const date = uniqueDate();
    await raw.send(
      new PutItemCommand({
        TableName: tableNames.topGenres,
        Item: { listen_date: { S: date }, top_genres: { S: "[]" } },
      }),
    );
    await raw.send(
      new PutItemCommand({
        TableName: tableNames.kpis,
        Item: { listen_date: { S: date }, kpi_type: { S: "GENRE_seed" }, listen_count: { S: "3" } },
      }),
    );
    expect(await tables().kpis.getDay(date)).toBeUndefined();
    const written = day(date, ["pop"], ["aa"]);
    await tables().kpis.putDay(written, 0);
    expect(await tables().kpis.getDay(date)).toEqual({ ...written, version: 1 });
    expect(await storedKeys(tableNames.kpis, date, "kpi_type")).toEqual(["GENRE_pop"]);
  });
});

function record(fileKey: string, message: string): Omit<FileRecord, "version"> {
  return {
    fileKey,
    fileType: "streams",
    etag: "abc",
    size: 5_000_000_000,
    deliveries: 1,
    attempts: 1,
    validationStatus: "SUCCESS",
    validationMessage: message,
    kpiIngestionStatus: "PENDING",
    archivalStatus: "PENDING",
  };
}

describe("DynamoDB file status store", () => {
  it("lists every record of a table larger than one 1 MB Scan page", async () => {
    const ns = uniqueName("scan");
    const keys = Array.from({ length: 1_200 }, (_, i) => `${ns}/data/raw/streams/s${i}.csv`);
    const message = "m".repeat(3_000);
    const files = tables().files;
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => files.put(record(key, message), 0)));
    }
    const firstPage = await raw.send(new ScanCommand({ TableName: tableNames.files }));
    expect(firstPage.LastEvaluatedKey).toBeDefined();
    const listed: string[] = [];
    for await (const r of files.list()) if (r.fileKey.startsWith(`${ns}/`)) listed.push(r.fileKey);
    expect(listed).toHaveLength(1_200);
    expect(listed).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it("stores numbers and nested maps as DynamoDB types", async () => {
    const key = `${uniqueName("types")}/s.csv`;
    await tables().files.put(
      {
        ...record(key, "ok"),
        rowCounts: { read: 3, kept: 2, duplicates: 0, bad: 1, badByCode: { unknown_track: 1 } },
      },
      0,
    );
    const out = await raw.send(
      new GetItemCommand({ TableName: tableNames.files, Key: { file_key: { S: key } } }),
    );
    expect(out.Item?.size).toEqual({ N: "5000000000" });
    expect(out.Item?.version).toEqual({ N: "1" });
    expect(out.Item?.row_counts?.M?.bad_by_code).toEqual({ M: { unknown_track: { N: "1" } } });
    expect(out.Item?.validation_status).toEqual({ S: "SUCCESS" });
  });

  it("treats a record without a version (seed pipeline) as absent and replaces it on create", async () => {
    const key = `${uniqueName("seed")}/s.csv`;
    await raw.send(
      new PutItemCommand({
        TableName: tableNames.files,
        Item: { file_key: { S: key }, validation_status: { S: "SUCCESS" } },
      }),
    );
    expect(await tables().files.get(key)).toBeUndefined();
    expect((await tables().files.put(record(key, "again"), 0)).version).toBe(1);
    expect((await tables().files.get(key))?.validationMessage).toBe("again");
  });

  it("fails with TableItemFormatError naming the key of a malformed record", async () => {
    const key = `${uniqueName("bad")}/s.csv`;
    await raw.send(
      new PutItemCommand({
        TableName: tableNames.files,
        Item: { file_key: { S: key }, version: { N: "1" }, file_type: { S: "streams" }, size: { S: "big" } },
      }),
    );
    const error = await tables()
      .files.get(key)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TableItemFormatError);
    expect((error as Error).message).toContain(key);
  });
});

/** A blob of `bytes` pseudo-random bytes (a store keeps blobs as they are). */
function blobOf(bytes: number, seed = 1): Uint8Array {
  const blob = new Uint8Array(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    blob[i] = x >>> 24;
  }
  return blob;
}

async function listedContent(listenDate: string, store = tables().partials) {
  const out = [];
  for await (const p of store.listDate(listenDate))
    out.push({
      listenDate: p.listenDate,
      fingerprint: p.fingerprint,
      fileKey: p.fileKey,
      blob: await p.read(),
    });
  return out;
}

describe("DynamoDB partial store", () => {
  it("keeps blobs over DynamoDB's 400 KB item limit in the object store, indexed in the table", async () => {
    const date = uniqueDate();
    const fingerprint = randomBytes(32).toString("hex");
    const partial = {
      listenDate: date,
      fingerprint,
      fileKey: "data/raw/streams/big.csv",
      blob: blobOf(600_000),
    };
    await tables().partials.put(partial);

    const objectKey = `data/partials/${date}/${fingerprint}.mpk`;
    const head = await objects.head(objectKey);
    expect(head?.size).toBe(600_000);
    const out = await raw.send(
      new GetItemCommand({
        TableName: tableNames.partials,
        Key: { listen_date: { S: date }, fingerprint: { S: fingerprint } },
      }),
    );
    expect(out.Item).toEqual({
      listen_date: { S: date },
      fingerprint: { S: fingerprint },
      file_key: { S: "data/raw/streams/big.csv" },
      object_key: { S: objectKey },
      size: { N: "600000" },
    });
    expect(await listedContent(date)).toEqual([partial]);
    await tables().partials.delete(date, fingerprint);
    expect(await listedContent(date)).toEqual([]);
    expect(await objects.head(objectKey)).toBeUndefined();
  });

  it("putMany indexes more partials than one BatchWriteItem takes, and later entries replace earlier ones", async () => {
    const dates = Array.from({ length: 30 }, () => uniqueDate());
    const fingerprint = randomBytes(32).toString("hex");
    const partials = dates.map((listenDate, i) => ({
      listenDate,
      fingerprint,
      fileKey: "many.csv",
      blob: blobOf(100, i),
    }));
    const replaced = { ...partials[0]!, fileKey: "replaced.csv" };
    await tables().partials.putMany!([...partials, replaced]);
    for (const [i, date] of dates.entries()) {
      expect(await listedContent(date)).toEqual([i === 0 ? replaced : partials[i]]);
    }
  });

  it("uses the configured prefix for the blobs", async () => {
    const store = createDynamoDbTables({
      client: raw,
      tableNames,
      partialObjects: objects,
      partialPrefix: "custom/partials/",
      writeConcurrency: 2,
    }).partials;
    const date = uniqueDate();
    const fingerprint = randomBytes(32).toString("hex");
    await store.put({ listenDate: date, fingerprint, fileKey: "k.csv", blob: blobOf(10) });
    expect(await objects.head(`custom/partials/${date}/${fingerprint}.mpk`)).toBeDefined();
  });
});
