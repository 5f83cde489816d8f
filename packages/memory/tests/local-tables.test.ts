import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DayKpis, type FileRecord, MusicpipeError, type StoredPartial } from "@musicpipe/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTables, encodeTableName, TableFormatError } from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "musicpipe-local-tables-")), ".musicpipe");
});
afterEach(async () => {
  await rm(join(dir, ".."), { recursive: true, force: true });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const day = (listenDate: string): Omit<DayKpis, "version"> => ({
  listenDate,
  genreStats: [
    {
      listenDate,
      genre: "pop",
      listenCount: 2,
      uniqueListeners: 1,
      totalListeningTimeMs: 400,
      avgListeningTimePerUserMs: 400,
    },
  ],
  topSongs: [],
  topGenres: [{ listenDate, rank: 1, genre: "pop", listenCount: 2 }],
  sourceCount: 1,
  sourcesDigest: "ff".repeat(32),
  updatedAt: "2025-06-22T00:00:00.000Z",
});

const record = (fileKey: string): Omit<FileRecord, "version"> => ({
  fileKey,
  fileType: "streams",
  etag: "e",
  size: 1,
  deliveries: 1,
  attempts: 1,
  validationStatus: "SUCCESS",
  kpiIngestionStatus: "PENDING",
  archivalStatus: "PENDING",
});

describe("createLocalTables", () => {
  it("keeps its state for a new createLocalTables over the same folder", async () => {
    const first = createLocalTables({ dir });
    await first.kpis.putDay(day("2025-06-22"), 0);
    await first.files.put(record("data/raw/streams/s1.csv"), 0);
    const partial: StoredPartial = {
      listenDate: "2025-06-22",
      fingerprint: "ab".repeat(32),
      fileKey: "data/raw/streams/s1.csv",
      blob: new Uint8Array([1, 2, 3, 250]),
    };
    await first.partials.put(partial);

    const second = createLocalTables({ dir });
    expect(await second.kpis.getDay("2025-06-22")).toEqual({ ...day("2025-06-22"), version: 1 });
    expect(await collect(second.kpis.listDates())).toEqual(["2025-06-22"]);
    expect(await second.files.get("data/raw/streams/s1.csv")).toEqual({
      ...record("data/raw/streams/s1.csv"),
      version: 1,
    });
    const [entry] = await collect(second.partials.listDate("2025-06-22"));
    expect({ ...entry, read: undefined }).toEqual({ ...partial, blob: undefined, read: undefined });
    expect(await entry!.read()).toEqual(partial.blob);
    // Versions carry on where the first left them.
    await expect(second.files.put(record("data/raw/streams/s1.csv"), 0)).rejects.toThrow(/version/);
    expect((await second.files.put(record("data/raw/streams/s1.csv"), 1)).version).toBe(2);
  });

  it("writes one readable JSON file per record and no temporary files", async () => {
    const tables = createLocalTables({ dir });
    await tables.kpis.putDay(day("2025-06-22"), 0);
    await tables.files.put(record("data/raw/streams/S1.csv"), 0);
    expect(await readdir(join(dir, "kpis"))).toEqual(["2025-06-22.json"]);
    expect(await readdir(join(dir, "files"))).toEqual(["data%2Fraw%2Fstreams%2F%531.csv.json"]);
    const stored = JSON.parse(
      await readFile(join(dir, "files", "data%2Fraw%2Fstreams%2F%531.csv.json"), "utf8"),
    );
    expect(stored).toMatchObject({ fileKey: "data/raw/streams/S1.csv", version: 1 });
  });

  it("serialises conditional writes of two table objects over one folder", async () => {
    const a = createLocalTables({ dir });
    const b = createLocalTables({ dir });
    const results = await Promise.allSettled([
      a.files.put(record("race.csv"), 0),
      b.files.put(record("race.csv"), 0),
      a.files.put(record("race.csv"), 0),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("fails with TableFormatError naming the path of a corrupt file", async () => {
    const tables = createLocalTables({ dir });
    await tables.files.put(record("a.csv"), 0);
    const path = join(dir, "files", "a.csv.json");
    await writeFile(path, '{"fileKey": "a.csv", "vers');
    const error: unknown = await tables.files.get("a.csv").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TableFormatError);
    expect(error).toBeInstanceOf(MusicpipeError);
    expect(error).toMatchObject({ code: "invalid_table_file", path, file: path });
    expect((error as Error).message).toContain(path);
    await expect(collect(tables.files.list())).rejects.toBeInstanceOf(TableFormatError);
    await expect(tables.files.put(record("a.csv"), 1)).rejects.toBeInstanceOf(TableFormatError);
  });

  it("fails with TableFormatError for JSON that is not a record of its key", async () => {
    const tables = createLocalTables({ dir });
    await mkdir(join(dir, "kpis"), { recursive: true });
    await writeFile(join(dir, "kpis", "2025-06-22.json"), "[1, 2]");
    await expect(tables.kpis.getDay("2025-06-22")).rejects.toThrow(
      /2025-06-22\.json' does not hold a JSON object/,
    );
    await writeFile(
      join(dir, "kpis", "2025-06-22.json"),
      JSON.stringify({ ...day("2025-06-23"), version: 1 }),
    );
    await expect(tables.kpis.getDay("2025-06-22")).rejects.toBeInstanceOf(TableFormatError);
    await mkdir(join(dir, "partials", "2025-06-22"), { recursive: true });
    await writeFile(
      join(dir, "partials", "2025-06-22", "x.json"),
      JSON.stringify({ listenDate: "2025-06-22" }),
    );
    await expect(collect(tables.partials.listDate("2025-06-22"))).rejects.toBeInstanceOf(TableFormatError);
  });

  it("ignores leftover temporary files", async () => {
    const tables = createLocalTables({ dir });
    await tables.files.put(record("a.csv"), 0);
    await writeFile(join(dir, "files", ".musicpipe-tmp-leftover"), "{half");
    expect((await collect(tables.files.list())).map((r) => r.fileKey)).toEqual(["a.csv"]);
  });

  it("lists unfinished records from their markers, and makes the markers for older folders", async () => {
    const tables = createLocalTables({ dir });
    const open = { ...record("data/raw/streams/open.csv"), validationStatus: "SUCCESS" as const };
    const done = {
      ...record("data/raw/streams/done.csv"),
      archivalStatus: "SUCCESS" as const,
      archivedKey: "data/archive/2025/06/22/x_done.csv",
    };
    await tables.files.put(open, 0);
    const started = await tables.files.put(record("data/raw/streams/done.csv"), 0);
    await tables.files.put(done, started.version);
    const keys = async () => (await collect(tables.files.listUnfinished!())).map((r) => r.fileKey);
    expect(await keys()).toEqual(["data/raw/streams/open.csv"]);
    expect(await readdir(join(dir, "files-open"))).toEqual([`${encodeTableName(open.fileKey)}.json`]);
    // A folder from before the markers: read in full once, markers written for next time.
    await rm(join(dir, "files-open"), { recursive: true });
    expect(await keys()).toEqual(["data/raw/streams/open.csv"]);
    expect(await readdir(join(dir, "files-open"))).toEqual([`${encodeTableName(open.fileKey)}.json`]);
  });

  it("encodes table names reversibly, case-safe and short", () => {
    expect(encodeTableName("2025-06-22")).toBe("2025-06-22");
    expect(encodeTableName("a/B c.csv")).toBe("a%2F%42%20c.csv");
    expect(decodeURIComponent(encodeTableName("é/😀 %41"))).toBe("é/😀 %41");
    expect(encodeTableName("A")).not.toBe(encodeTableName("a"));
    const long = encodeTableName("x".repeat(1000));
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long).toContain("#");
    expect(encodeTableName("x".repeat(1000))).not.toBe(encodeTableName(`${"x".repeat(999)}y`));
  });

  it("refuses an empty dir", () => {
    expect(() => createLocalTables({ dir: "" })).toThrow(/dir/);
  });
});
