import {
  ConditionFailedError,
  type DayKpis,
  type FileRecord,
  type FileStatusStore,
  type KpiPartialState,
  type KpiStore,
  PARTIAL_FORMAT,
  PARTIAL_VERSION,
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

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

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
    sources: [...sources],
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
      expect(got?.sources).toEqual(["cc"]);
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
      input.sources.push("input");
      input.genreStats.length = 0;
      returned.sources.push("returned");
      returned.topGenres.length = 0;
      const read = (await kpis.getDay(date)) as Mutable<DayKpis>;
      read.sources.push("read");
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

function sampleState(listenDate: string, genre: string, listens: number): KpiPartialState {
  return {
    format: PARTIAL_FORMAT,
    version: PARTIAL_VERSION,
    tracks: [
      ["t1", "Song one", "Artist"],
      ["t2", "Song «two»", null],
    ],
    days: [
      {
        date: listenDate,
        genres: [
          {
            genre,
            listens,
            totalMs: listens * 180_000,
            listeners: ["u1", "u2"],
            tracks: [
              ["t1", listens - 1],
              ["t2", 1],
            ],
          },
        ],
      },
    ],
  };
}

function samplePartial(listenDate: string, fingerprint: string, genre = "pop", listens = 3): StoredPartial {
  return {
    listenDate,
    fingerprint,
    fileKey: `data/raw/streams/${fingerprint.slice(0, 8)}.csv`,
    state: sampleState(listenDate, genre, listens),
  };
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

    it("reads back a stored partial", async () => {
      const partials = await options.create();
      const partial = samplePartial(randomDate(), randomFingerprint());
      await partials.put(partial);
      expect(await collect(partials.listDate(partial.listenDate))).toEqual([partial]);
    });

    it("replaces the partial of the same date and fingerprint", async () => {
      const partials = await options.create();
      const date = randomDate();
      const fingerprint = randomFingerprint();
      await partials.put(samplePartial(date, fingerprint, "pop", 3));
      const replacement = {
        ...samplePartial(date, fingerprint, "rock", 5),
        fileKey: "data/raw/streams/again.csv",
      };
      await partials.put(replacement);
      expect(await collect(partials.listDate(date))).toEqual([replacement]);
    });

    it("lists only the partials of the date asked for", async () => {
      const partials = await options.create();
      const [date, other] = randomDates(2) as [string, string];
      const fingerprint = randomFingerprint();
      const mine = samplePartial(date, fingerprint);
      await partials.put(mine);
      await partials.put(samplePartial(other, fingerprint));
      await partials.put(samplePartial(other, randomFingerprint()));
      expect(await collect(partials.listDate(date))).toEqual([mine]);
      expect(await collect(partials.listDate(other))).toHaveLength(2);
    });

    it("lists a date's partials in ascending fingerprint order", async () => {
      const partials = await options.create();
      const date = randomDate();
      const fingerprints = Array.from({ length: 12 }, () => randomFingerprint());
      await Promise.all(fingerprints.map((fingerprint) => partials.put(samplePartial(date, fingerprint))));
      const listed = (await collect(partials.listDate(date))).map((partial) => partial.fingerprint);
      expect(listed).toEqual(sortUtf8(fingerprints));
    });

    it("returns copies: changing a listed or written partial changes nothing stored", async () => {
      const partials = await options.create();
      const partial = samplePartial(randomDate(), randomFingerprint());
      const input = structuredClone(partial);
      await partials.put(input);
      input.state.tracks.length = 0;
      const [listed] = await collect(partials.listDate(partial.listenDate));
      listed?.state.days.splice(0);
      expect(await collect(partials.listDate(partial.listenDate))).toEqual([partial]);
    });
  });
}
