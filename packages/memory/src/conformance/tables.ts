import {
  ConditionFailedError,
  type DayKpis,
  type DayStatePointer,
  type DayStateStore,
  type FileRecord,
  type FileStatusStore,
  isFinished,
  type KpiStore,
  ObjectNotFoundError,
  type PartialEntry,
  type PartialStore,
  type StoredPartial,
} from "@musicpipe/core";
import { describe, expect, it } from "vitest";
import { collect, randomDate, randomDates, randomFingerprint, sortUtf8, uniqueNamespace } from "./helpers.js";

/** Options shared by the table conformance suites. */
export interface TableConformanceOptions<Store> {
  /** Names the suite in the test report. */
  readonly name: string;
  /**
   * Builds the store under test; called inside each test, so a skipped suite builds nothing.
   * Tests use random dates and keys of their own, but expect none of them to be stored yet:
   * return an empty store, or one that earlier runs did not fill with far-future dates.
   */
  readonly create: () => Promise<Store> | Store;
  /**
   * Skips the whole suite, e.g. when the server it needs is not running.
   * @default false
   */
  readonly skip?: boolean | undefined;
}

/** Options of {@link runKpiStoreConformance}. */
export type KpiStoreConformanceOptions = TableConformanceOptions<KpiStore>;
/** Options of {@link runFileStatusStoreConformance}. */
export type FileStatusStoreConformanceOptions = TableConformanceOptions<FileStatusStore>;
/** Options of {@link runPartialStoreConformance}. */
export type PartialStoreConformanceOptions = TableConformanceOptions<PartialStore>;
/** Options of {@link runDayStateStoreConformance}. */
export type DayStateStoreConformanceOptions = TableConformanceOptions<DayStateStore>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

/** A sources digest for a list of sample source names (any 64 hex digits will do for a store). */
function digestOf(sources: readonly string[]): string {
  let n = 0;
  for (const s of sources) for (const c of s) n = (n * 31 + c.charCodeAt(0)) >>> 0;
  return n.toString(16).padStart(64, "0");
}

function sampleDay(
  listenDate: string,
  genres: readonly string[],
  sources: readonly string[],
): Omit<DayKpis, "version"> {
  return {
    listenDate,
    genreStats: genres.map((genre, i) => ({
      listenDate,
      genre,
      listenCount: 10 - i,
      uniqueListeners: 3,
      totalListeningTimeMs: 1_000_000 + i,
      avgListeningTimePerUserMs: (1_000_000 + i) / 3,
    })),
    topSongs: genres.flatMap((genre) => [
      {
        listenDate,
        genre,
        rank: 1,
        trackId: `${genre}-1`,
        trackName: `Song «${genre}»`,
        artists: "A;B",
        listenCount: 4,
      },
      { listenDate, genre, rank: 2, trackId: `${genre}-2`, trackName: "Untitled", listenCount: 2 },
    ]),
    topGenres: genres.map((genre, i) => ({ listenDate, rank: i + 1, genre, listenCount: 10 - i })),
    sourceCount: sources.length,
    sourcesDigest: digestOf(sources),
    updatedAt: "2025-06-22T10:00:00.000Z",
  };
}

function versioned<T extends object>(value: T, version: number): T & { version: number } {
  return { ...value, version };
}

/** Expects `promise` to fail with ConditionFailedError whose message names `key`. */
async function expectConflict(promise: Promise<unknown>, key: string): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConditionFailedError);
  expect((error as Error).message).toContain(key);
}

/** Runs two writes at once; expects exactly one to succeed and the other to conflict. */
async function expectOneWinner<T>(writes: readonly [Promise<T>, Promise<T>]): Promise<T> {
  const results = await Promise.allSettled(writes);
  const won = results.filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === "fulfilled");
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  expect(won).toHaveLength(1);
  expect(lost).toHaveLength(1);
  expect(lost[0]?.reason).toBeInstanceOf(ConditionFailedError);
  return won[0]!.value;
}

/**
 * Registers the {@link KpiStore} conformance suite with vitest.
 *
 * @example
 * runKpiStoreConformance({ name: "memory", create: () => createMemoryTables().kpis });
 */
export function runKpiStoreConformance(options: KpiStoreConformanceOptions): void {
  describe.skipIf(options.skip ?? false)(`KpiStore conformance: ${options.name}`, () => {
    it("returns undefined for a date never written", async () => {
      const kpis = await options.create();
      expect(await kpis.getDay(randomDate())).toBeUndefined();
    });

    it("creates a date with expectedVersion 0, storing version 1", async () => {
      const kpis = await options.create();
      const date = randomDate();
      const day = sampleDay(date, ["pop", "rock"], ["aa", "bb"]);
      const stored = await kpis.putDay(day, 0);
      expect(stored).toEqual(versioned(day, 1));
      expect(await kpis.getDay(date)).toEqual(versioned(day, 1));
    });

    it("refuses a second create with ConditionFailedError naming the date", async () => {
      const kpis = await options.create();
      const date = randomDate();
      const first = sampleDay(date, ["pop"], ["aa"]);
      await kpis.putDay(first, 0);
      await expectConflict(kpis.putDay(sampleDay(date, ["jazz"], ["bb"]), 0), date);
      expect(await kpis.getDay(date)).toEqual(versioned(first, 1));
    });

    it("updates with the current version and refuses stale or future versions", async () => {
      const kpis = await options.create();
      const date = randomDate();
      await kpis.putDay(sampleDay(date, ["pop"], ["aa"]), 0);
      const second = sampleDay(date, ["pop", "rock"], ["aa", "bb"]);
      expect((await kpis.putDay(second, 1)).version).toBe(2);
      await expectConflict(kpis.putDay(sampleDay(date, ["x"], []), 1), date);
      await expectConflict(kpis.putDay(sampleDay(date, ["x"], []), 3), date);
      expect(await kpis.getDay(date)).toEqual(versioned(second, 2));
    });

    it("replaces all three sets: no genre of an earlier write is left behind", async () => {
      const kpis = await options.create();
      const date = randomDate();
      await kpis.putDay(sampleDay(date, ["pop", "rock", "metal"], ["aa", "bb"]), 0);
      const replacement = sampleDay(date, ["jazz"], ["cc"]);
      await kpis.putDay(replacement, 1);
      const got = await kpis.getDay(date);
      expect(got).toEqual(versioned(replacement, 2));
      expect(got?.genreStats.map((s) => s.genre)).toEqual(["jazz"]);
      expect(new Set(got?.topSongs.map((s) => s.genre))).toEqual(new Set(["jazz"]));
      expect(got?.topGenres.map((g) => g.genre)).toEqual(["jazz"]);
      expect(got?.sourceCount).toBe(1);
      expect(got?.sourcesDigest).toBe(digestOf(["cc"]));
    });

    it("stores an empty day", async () => {
      const kpis = await options.create();
      const date = randomDate();
      const empty = sampleDay(date, [], []);
      await kpis.putDay(empty, 0);
      expect(await kpis.getDay(date)).toEqual(versioned(empty, 1));
    });

    it("lets exactly one of two concurrent writers with the same expected version win", async () => {
      const kpis = await options.create();
      const date = randomDate();
      const winner = await expectOneWinner([
        kpis.putDay(sampleDay(date, ["pop"], ["aa"]), 0),
        kpis.putDay(sampleDay(date, ["rock"], ["bb"]), 0),
      ]);
      expect(winner.version).toBe(1);
      expect(await kpis.getDay(date)).toEqual(winner);
      const next = await expectOneWinner([
        kpis.putDay(sampleDay(date, ["jazz"], ["cc"]), 1),
        kpis.putDay(sampleDay(date, ["folk"], ["dd"]), 1),
      ]);
      expect(await kpis.getDay(date)).toEqual(next);
    });

    it("returns copies: changing a returned or written object changes nothing stored", async () => {
      const kpis = await options.create();
      const date = randomDate();
      const day = sampleDay(date, ["pop"], ["aa"]);
      const input = structuredClone(day) as Mutable<Omit<DayKpis, "version">>;
      const returned = (await kpis.putDay(input, 0)) as Mutable<DayKpis>;
      input.sourceCount = 99;
      input.genreStats.length = 0;
      returned.sourceCount = 98;
      returned.topGenres.length = 0;
      const read = (await kpis.getDay(date)) as Mutable<DayKpis>;
      read.sourceCount = 97;
      (read.genreStats[0] as { genre: string }).genre = "changed";
      expect(await kpis.getDay(date)).toEqual(versioned(day, 1));
    });

    it("lists dates in ascending order", async () => {
      const kpis = await options.create();
      const dates = randomDates(5);
      for (const date of dates) await kpis.putDay(sampleDay(date, ["pop"], []), 0);
      const listed = await collect(kpis.listDates());
      expect(listed).toEqual(sortUtf8(listed));
      expect(new Set(listed).size).toBe(listed.length);
      expect(listed.filter((date) => dates.includes(date))).toEqual(sortUtf8(dates));
    });
  });
}

function sampleRecord(
  fileKey: string,
  overrides: Partial<Omit<FileRecord, "version">> = {},
): Omit<FileRecord, "version"> {
  return {
    fileKey,
    fileType: "streams",
    etag: "0123abcd",
    size: 1234,
    deliveries: 1,
    attempts: 1,
    validationStatus: "PENDING",
    kpiIngestionStatus: "PENDING",
    archivalStatus: "PENDING",
    ...overrides,
  };
}

function fullRecord(fileKey: string): Omit<FileRecord, "version"> {
  return sampleRecord(fileKey, {
    validationStatus: "FAILED",
    validationTimestamp: "2025-06-22T10:00:00.000Z",
    validationMessage: "missing column 'track_id' — «quoted»",
    rejection: {
      code: "missing_column",
      message: "missing column 'track_id'",
      line: 1,
      columns: ["track_id"],
    },
    contentSha256: "ab".repeat(32),
    rowCounts: { read: 10, kept: 7, duplicates: 1, bad: 2, badByCode: { invalid_listen_time: 2 } },
    listenDates: ["2025-06-21", "2025-06-22"],
    kpiIngestionStatus: "SKIPPED",
    kpiIngestionTimestamp: "2025-06-22T10:00:01.000Z",
    kpiIngestionMessage: "file rejected",
    archivalStatus: "SUCCESS",
    archivalTimestamp: "2025-06-22T10:00:02.000Z",
    archivalMessage: "moved",
    archivedKey: `data/error/20250622T100002Z_${fileKey.split("/").pop() ?? "x"}`,
    archivedEtag: "0123abcd",
  });
}

/**
 * Registers the {@link FileStatusStore} conformance suite with vitest.
 *
 * @example
 * runFileStatusStoreConformance({ name: "memory", create: () => createMemoryTables().files });
 */
export function runFileStatusStoreConformance(options: FileStatusStoreConformanceOptions): void {
  describe.skipIf(options.skip ?? false)(`FileStatusStore conformance: ${options.name}`, () => {
    const setup = async () => ({ files: await options.create(), ns: uniqueNamespace() });

    it("returns undefined for a key never written", async () => {
      const { files, ns } = await setup();
      expect(await files.get(`${ns}/data/raw/streams/missing.csv`)).toBeUndefined();
    });

    it("creates a record with expectedVersion 0 and reads every field back", async () => {
      const { files, ns } = await setup();
      const record = fullRecord(`${ns}/data/raw/streams/s1.csv`);
      expect(await files.put(record, 0)).toEqual(versioned(record, 1));
      expect(await files.get(record.fileKey)).toEqual(versioned(record, 1));
    });

    it("refuses a second create with ConditionFailedError naming the key", async () => {
      const { files, ns } = await setup();
      const key = `${ns}/data/raw/streams/s1.csv`;
      await files.put(sampleRecord(key), 0);
      await expectConflict(files.put(sampleRecord(key, { attempts: 9 }), 0), key);
      expect((await files.get(key))?.attempts).toBe(1);
    });

    it("moves through transitions with the current version and refuses stale ones", async () => {
      const { files, ns } = await setup();
      const key = `${ns}/data/raw/streams/s1.csv`;
      const created = await files.put(sampleRecord(key), 0);
      const validated = await files.put(
        { ...sampleRecord(key), validationStatus: "SUCCESS", contentSha256: "cd".repeat(32) },
        created.version,
      );
      expect(validated.version).toBe(2);
      await expectConflict(
        files.put(sampleRecord(key, { validationStatus: "FAILED" }), created.version),
        key,
      );
      await expectConflict(files.put(sampleRecord(key, { validationStatus: "FAILED" }), 7), key);
      const stored = await files.get(key);
      expect(stored).toEqual(validated);
    });

    it("lets exactly one of two concurrent writers with the same expected version win", async () => {
      const { files, ns } = await setup();
      const key = `${ns}/race.csv`;
      const winner = await expectOneWinner([
        files.put(sampleRecord(key, { attempts: 1 }), 0),
        files.put(sampleRecord(key, { attempts: 2 }), 0),
      ]);
      expect(await files.get(key)).toEqual(winner);
      const next = await expectOneWinner([
        files.put(sampleRecord(key, { validationStatus: "IN_PROGRESS", attempts: 3 }), 1),
        files.put(sampleRecord(key, { validationStatus: "IN_PROGRESS", attempts: 4 }), 1),
      ]);
      expect(next.version).toBe(2);
      expect(await files.get(key)).toEqual(next);
    });

    it("returns copies: changing a returned or written object changes nothing stored", async () => {
      const { files, ns } = await setup();
      const record = fullRecord(`${ns}/copies.csv`);
      const input = structuredClone(record) as Mutable<Omit<FileRecord, "version">>;
      const returned = (await files.put(input, 0)) as Mutable<FileRecord>;
      (input.listenDates as string[]).push("input");
      returned.attempts = 99;
      (returned.rowCounts as Mutable<NonNullable<FileRecord["rowCounts"]>>).badByCode = {};
      const read = (await files.get(record.fileKey)) as Mutable<FileRecord>;
      (read.listenDates as string[]).push("read");
      expect(await files.get(record.fileKey)).toEqual(versioned(record, 1));
      const [listed] = (await collect(files.list())).filter((r) => r.fileKey === record.fileKey);
      (listed as Mutable<FileRecord>).attempts = 42;
      expect((await files.get(record.fileKey))?.attempts).toBe(1);
    });

    it("keeps keys apart that differ only in case, or are long or full of special characters", async () => {
      const { files, ns } = await setup();
      const keys = [
        `${ns}/data/raw/streams/Streams.csv`,
        `${ns}/data/raw/streams/streams.csv`,
        `${ns}/data/raw/streams/with space + & = ~ % ( ) [ ] # , ; : @ $.csv`,
        `${ns}/data/raw/streams/unicode-é-中文-😀.csv`,
        `${ns}/data/raw/streams/${"long-name-".repeat(60)}.csv`,
      ];
      for (const [i, key] of keys.entries()) await files.put(sampleRecord(key, { size: i }), 0);
      for (const [i, key] of keys.entries())
        expect(await files.get(key)).toEqual(versioned(sampleRecord(key, { size: i }), 1));
    });

    it("finds every unfinished record (listUnfinished when it has one), in key order", async () => {
      const { files, ns } = await setup();
      const unfinished = (store: FileStatusStore) =>
        collect(store.listUnfinished?.() ?? store.list()).then((records) =>
          records.filter((r) => r.fileKey.startsWith(`${ns}/`) && !isFinished(r)).map((r) => r.fileKey),
        );
      const keys = ["c.csv", "a.csv", "b.csv", "d.csv"].map((name) => `${ns}/data/raw/streams/${name}`);
      const versions = new Map<string, number>();
      for (const key of keys) versions.set(key, (await files.put(sampleRecord(key), 0)).version);
      expect(await unfinished(files)).toEqual(sortUtf8(keys));
      // b is finished (moved out); d goes on (still unfinished); a record made finished from
      // the start is never among them.
      const b = keys[2]!;
      await files.put({ ...fullRecord(b), fileKey: b }, versions.get(b)!);
      const d = keys[3]!;
      await files.put(sampleRecord(d, { validationStatus: "SUCCESS" }), versions.get(d)!);
      await files.put(fullRecord(`${ns}/data/raw/streams/e.csv`), 0);
      expect(await unfinished(files)).toEqual(sortUtf8([keys[0]!, keys[1]!, d]));
    });

    it("lists records in ascending key order (UTF-8 bytes)", async () => {
      const { files, ns } = await setup();
      const keys = ["b.csv", "a b.csv", "a-b.csv", "a/b.csv", "A.csv", "é.csv", "\uff61.csv", "😀.csv"].map(
        (name) => `${ns}/${name}`,
      );
      for (const key of keys) await files.put(sampleRecord(key), 0);
      const listed = (await collect(files.list())).map((record) => record.fileKey);
      expect(listed).toEqual(sortUtf8(listed));
      expect(listed.filter((key) => key.startsWith(`${ns}/`))).toEqual(sortUtf8(keys));
      const ours = (await collect(files.list())).filter((record) => record.fileKey.startsWith(`${ns}/`));
      expect(ours.every((record) => record.version === 1)).toBe(true);
    });
  });
}

/** A blob of some bytes (the store keeps blobs as they are: any bytes will do). */
function sampleBlob(seed: number, length = 64): Uint8Array {
  const blob = new Uint8Array(length);
  for (let i = 0; i < length; i++) blob[i] = (seed * 31 + i * 7) & 0xff;
  return blob;
}

function samplePartial(listenDate: string, fingerprint: string, seed = 3): StoredPartial {
  return {
    listenDate,
    fingerprint,
    fileKey: `data/raw/streams/${fingerprint.slice(0, 8)}.csv`,
    blob: sampleBlob(seed, 40 + seed),
  };
}

/** A listed entry's fields and its blob, for comparisons. */
async function contentOf(entry: PartialEntry): Promise<StoredPartial> {
  return {
    listenDate: entry.listenDate,
    fingerprint: entry.fingerprint,
    fileKey: entry.fileKey,
    blob: await entry.read(),
  };
}

async function listed(partials: PartialStore, listenDate: string): Promise<StoredPartial[]> {
  return Promise.all((await collect(partials.listDate(listenDate))).map(contentOf));
}

/**
 * Registers the {@link PartialStore} conformance suite with vitest.
 *
 * @example
 * runPartialStoreConformance({ name: "memory", create: () => createMemoryTables().partials });
 */
export function runPartialStoreConformance(options: PartialStoreConformanceOptions): void {
  describe.skipIf(options.skip ?? false)(`PartialStore conformance: ${options.name}`, () => {
    it("lists nothing for a date without partials", async () => {
      const partials = await options.create();
      expect(await collect(partials.listDate(randomDate()))).toEqual([]);
    });

    it("reads back a stored partial, blob byte for byte", async () => {
      const partials = await options.create();
      const partial = { ...samplePartial(randomDate(), randomFingerprint()), blob: sampleBlob(9, 300_000) };
      await partials.put(partial);
      expect(await listed(partials, partial.listenDate)).toEqual([partial]);
    });

    it("replaces the partial of the same date and fingerprint", async () => {
      const partials = await options.create();
      const date = randomDate();
      const fingerprint = randomFingerprint();
      await partials.put(samplePartial(date, fingerprint, 3));
      const replacement = { ...samplePartial(date, fingerprint, 5), fileKey: "data/raw/streams/again.csv" };
      await partials.put(replacement);
      expect(await listed(partials, date)).toEqual([replacement]);
    });

    it("stores several at once with putMany, where the adapter has it", async () => {
      const partials = await options.create();
      const [date, other] = randomDates(2) as [string, string];
      const batch = [
        samplePartial(date, randomFingerprint(), 1),
        samplePartial(other, randomFingerprint(), 2),
      ];
      if (partials.putMany === undefined) for (const p of batch) await partials.put(p);
      else await partials.putMany(batch);
      expect(await listed(partials, date)).toEqual([batch[0]]);
      expect(await listed(partials, other)).toEqual([batch[1]]);
    });

    it("lists only the partials of the date asked for", async () => {
      const partials = await options.create();
      const [date, other] = randomDates(2) as [string, string];
      const fingerprint = randomFingerprint();
      const mine = samplePartial(date, fingerprint);
      await partials.put(mine);
      await partials.put(samplePartial(other, fingerprint));
      await partials.put(samplePartial(other, randomFingerprint()));
      expect(await listed(partials, date)).toEqual([mine]);
      expect(await collect(partials.listDate(other))).toHaveLength(2);
    });

    it("lists a date's partials in ascending fingerprint order", async () => {
      const partials = await options.create();
      const date = randomDate();
      const fingerprints = Array.from({ length: 12 }, () => randomFingerprint());
      await Promise.all(fingerprints.map((fingerprint) => partials.put(samplePartial(date, fingerprint))));
      const order = (await collect(partials.listDate(date))).map((partial) => partial.fingerprint);
      expect(order).toEqual(sortUtf8(fingerprints));
    });

    it("deletes a partial (and deleting a missing one succeeds); a listed entry of a deleted partial fails to read with ObjectNotFoundError", async () => {
      const partials = await options.create();
      const date = randomDate();
      const [a, b] = [
        samplePartial(date, randomFingerprint(), 1),
        samplePartial(date, randomFingerprint(), 2),
      ];
      await partials.put(a);
      await partials.put(b);
      const entries = await collect(partials.listDate(date));
      await partials.delete(date, a.fingerprint);
      await partials.delete(date, a.fingerprint);
      await partials.delete(date, randomFingerprint());
      expect(await listed(partials, date)).toEqual([b]);
      const gone = entries.find((e) => e.fingerprint === a.fingerprint)!;
      await expect(gone.read()).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it("returns copies: changing a read or written blob changes nothing stored", async () => {
      const partials = await options.create();
      const partial = samplePartial(randomDate(), randomFingerprint());
      const input = { ...partial, blob: partial.blob.slice() };
      await partials.put(input);
      input.blob.fill(0);
      const [entry] = await collect(partials.listDate(partial.listenDate));
      (await entry!.read()).fill(1);
      expect(await listed(partials, partial.listenDate)).toEqual([partial]);
    });
  });
}

function samplePointer(listenDate: string, shard: number, overrides: Partial<DayStatePointer> = {}) {
  const pointer: Omit<DayStatePointer, "version"> = {
    listenDate,
    shard,
    shards: 4,
    stateKey: `data/state/days/${listenDate}/${shard}/1-abc.mps`,
    summaryBytes: 1234,
    sourceCount: 2,
    sourcesDigest: "ab".repeat(32),
    catalog: "cd".repeat(32),
    updatedAt: "2025-06-22T10:00:00.000Z",
  };
  const { version: _ignored, ...rest } = { ...pointer, ...overrides, version: 0 };
  return rest;
}

/**
 * Registers the {@link DayStateStore} conformance suite with vitest.
 *
 * @example
 * runDayStateStoreConformance({ name: "memory", create: () => createMemoryTables().days });
 */
export function runDayStateStoreConformance(options: DayStateStoreConformanceOptions): void {
  describe.skipIf(options.skip ?? false)(`DayStateStore conformance: ${options.name}`, () => {
    it("returns undefined for a shard never written", async () => {
      const days = await options.create();
      expect(await days.get(randomDate(), 0)).toBeUndefined();
    });

    it("creates a pointer with expectedVersion 0 and reads every field back", async () => {
      const days = await options.create();
      const pointer = samplePointer(randomDate(), 3);
      expect(await days.put(pointer, 0)).toEqual(versioned(pointer, 1));
      expect(await days.get(pointer.listenDate, 3)).toEqual(versioned(pointer, 1));
    });

    it("keeps the shards of a date apart", async () => {
      const days = await options.create();
      const date = randomDate();
      const zero = samplePointer(date, 0, { sourceCount: 5 });
      const one = samplePointer(date, 1, { sourceCount: 6 });
      await days.put(zero, 0);
      await days.put(one, 0);
      expect(await days.get(date, 0)).toEqual(versioned(zero, 1));
      expect(await days.get(date, 1)).toEqual(versioned(one, 1));
      expect(await days.get(date, 2)).toBeUndefined();
    });

    it("updates with the current version and refuses stale or future ones with ConditionFailedError naming the date", async () => {
      const days = await options.create();
      const date = randomDate();
      await days.put(samplePointer(date, 0), 0);
      const next = samplePointer(date, 0, { stateKey: "data/state/next.mps", sourceCount: 3 });
      expect((await days.put(next, 1)).version).toBe(2);
      await expectConflict(days.put(samplePointer(date, 0, { sourceCount: 9 }), 1), date);
      await expectConflict(days.put(samplePointer(date, 0, { sourceCount: 9 }), 0), date);
      await expectConflict(days.put(samplePointer(date, 0, { sourceCount: 9 }), 5), date);
      expect(await days.get(date, 0)).toEqual(versioned(next, 2));
    });

    it("lets exactly one of two concurrent writers with the same expected version win", async () => {
      const days = await options.create();
      const date = randomDate();
      const winner = await expectOneWinner([
        days.put(samplePointer(date, 1, { sourceCount: 1 }), 0),
        days.put(samplePointer(date, 1, { sourceCount: 2 }), 0),
      ]);
      expect(await days.get(date, 1)).toEqual(winner);
    });

    it("lists every pointer by date, then shard", async () => {
      const days = await options.create();
      const dates = randomDates(3);
      for (const date of dates) for (const shard of [2, 0, 1]) await days.put(samplePointer(date, shard), 0);
      const ours = (await collect(days.list())).filter((p) => dates.includes(p.listenDate));
      expect(ours.map((p) => [p.listenDate, p.shard])).toEqual(
        sortUtf8(dates).flatMap((date) => [0, 1, 2].map((shard) => [date, shard])),
      );
    });
  });
}
