import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  ConditionFailedError,
  ConfigurationError,
  type DayKpis,
  type GenreStat,
  type KpiStore,
  type TopGenre,
  type TopSong,
} from "@musicpipe/core";
import {
  checkExpectedVersion,
  type Item,
  ItemReader,
  isVersioned,
  queryAll,
  scanAll,
  sortByUtf8,
  versionConflict,
  versionInError,
  versionOf,
} from "./items.js";
import type { TableNames } from "./options.js";
import {
  backoffDelay,
  cancellationReasons,
  isConditionalCheckFailed,
  type RetryOptions,
  retryTransient,
  sleep,
} from "./retry.js";

/** `state` of a TopGenresByDay item while a write of its date is under way (or was interrupted). */
export const DAY_WRITING = "writing";
/** `state` of a TopGenresByDay item whose date's KPI items are all written. */
export const DAY_COMPLETE = "complete";

/** Item writes per transaction; the 25th action is the ConditionCheck on the commit item. */
export const TRANSACTION_WRITES = 24;
/** Stay well below the 4 MB a transaction may carry. */
const TRANSACTION_BYTES = 3_500_000;
/** How often getDay re-reads a date that a concurrent writer keeps changing. */
const READ_TRIES = 5;

type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

const names = { "#version": "version", "#state": "state" };

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Fails with ConfigurationError unless `day` can be stored and read back as it is. */
function checkDay(what: string, day: Omit<DayKpis, "version">): void {
  const fail = (problem: string): never => {
    throw new ConfigurationError(`${what}: ${problem}`);
  };
  if (typeof day?.listenDate !== "string" || day.listenDate.length === 0)
    fail("listenDate must be a non-empty string");
  if (typeof day.updatedAt !== "string") fail("updatedAt must be a string");
  for (const field of ["genreStats", "topSongs", "topGenres"] as const) {
    if (!Array.isArray(day[field])) fail(`${field} must be an array`);
  }
  if (!isCount(day.sourceCount))
    fail(`sourceCount must be a non-negative safe integer, got ${String(day.sourceCount)}`);
  if (typeof day.sourcesDigest !== "string" || !/^[0-9a-f]{64}$/.test(day.sourcesDigest))
    fail("sourcesDigest must be 64 hex digits");
  const sameDate = (entry: { listenDate: string }, field: string) => {
    if (entry.listenDate !== day.listenDate)
      fail(`${field} holds an entry of listen date '${entry.listenDate}'`);
  };
  const genre = (value: unknown, field: string) => {
    if (typeof value !== "string" || value.length === 0) fail(`${field} holds an entry without a genre`);
  };
  const count = (value: unknown, field: string, name: string) => {
    if (!isCount(value)) fail(`${field}.${name} must be a non-negative safe integer, got ${String(value)}`);
  };
  const genres = new Set<string>();
  for (const stat of day.genreStats) {
    sameDate(stat, "genreStats");
    genre(stat.genre, "genreStats");
    if (genres.has(stat.genre)) fail(`genreStats holds genre '${stat.genre}' twice`);
    genres.add(stat.genre);
    count(stat.listenCount, "genreStats", "listenCount");
    count(stat.uniqueListeners, "genreStats", "uniqueListeners");
    count(stat.totalListeningTimeMs, "genreStats", "totalListeningTimeMs");
    if (
      typeof stat.avgListeningTimePerUserMs !== "number" ||
      !Number.isFinite(stat.avgListeningTimePerUserMs)
    ) {
      fail(
        `genreStats.avgListeningTimePerUserMs must be a finite number, got ${stat.avgListeningTimePerUserMs}`,
      );
    }
  }
  for (const song of day.topSongs) {
    sameDate(song, "topSongs");
    genre(song.genre, "topSongs");
    count(song.rank, "topSongs", "rank");
    count(song.listenCount, "topSongs", "listenCount");
    if (typeof song.trackId !== "string" || typeof song.trackName !== "string") {
      fail("topSongs holds an entry without a string trackId and trackName");
    }
    if (song.artists !== undefined && typeof song.artists !== "string")
      fail("topSongs.artists must be a string");
  }
  for (const top of day.topGenres) {
    sameDate(top, "topGenres");
    genre(top.genre, "topGenres");
    count(top.rank, "topGenres", "rank");
    count(top.listenCount, "topGenres", "listenCount");
  }
}

/** The MusicStreamingKPIs item of one genre's statistics. */
function statItem(day: Omit<DayKpis, "version">, stat: GenreStat, version: number): Item {
  return {
    listen_date: day.listenDate,
    kpi_type: `GENRE_${stat.genre}`,
    track_genre: stat.genre,
    listen_count: stat.listenCount,
    unique_listeners: stat.uniqueListeners,
    total_listening_time_ms: stat.totalListeningTimeMs,
    avg_listening_time_per_user_ms: stat.avgListeningTimePerUserMs,
    source_files: day.sourceCount,
    updated_at: day.updatedAt,
    version,
  };
}

/** The TopSongsByGenre items of a day: one per genre that has top songs, songs by rank. */
function songItems(day: Omit<DayKpis, "version">, version: number): Item[] {
  const byGenre = new Map<string, TopSong[]>();
  for (const song of day.topSongs) {
    const songs = byGenre.get(song.genre) ?? [];
    songs.push(song);
    byGenre.set(song.genre, songs);
  }
  return [...byGenre].map(([genre, songs]) => ({
    listen_date: day.listenDate,
    track_genre: genre,
    top_songs: [...songs]
      .sort((a, b) => a.rank - b.rank)
      .map((song) => ({
        rank: song.rank,
        track_id: song.trackId,
        track_name: song.trackName,
        ...(song.artists === undefined ? {} : { artists: song.artists }),
        listen_count: song.listenCount,
      })),
    version,
    updated_at: day.updatedAt,
  }));
}

function topGenresList(day: Omit<DayKpis, "version">): Item[] {
  return [...day.topGenres]
    .sort((a, b) => a.rank - b.rank)
    .map((top) => ({ rank: top.rank, track_genre: top.genre, listen_count: top.listenCount }));
}

/** The digest of no sources. */
const NO_SOURCES = "0".repeat(64);

/** A date whose last write did not finish: its version, and no sources, so the next load rewrites it. */
function unfinishedDay(listenDate: string, version: number, updatedAt: string): DayKpis {
  return {
    listenDate,
    genreStats: [],
    topSongs: [],
    topGenres: [],
    sourceCount: 0,
    sourcesDigest: NO_SOURCES,
    version,
    updatedAt,
  };
}

/**
 * {@link KpiStore} over the three KPI tables. Read {@link createDynamoDbTables} for the
 * layout and the write protocol.
 */
export function createDynamoDbKpiStore(
  doc: DynamoDBDocumentClient,
  tables: TableNames,
  retry: () => RetryOptions,
): KpiStore {
  const commitKey = (listenDate: string) => ({ listen_date: listenDate });

  async function readCommit(listenDate: string, projection = false): Promise<Item | undefined> {
    const out = await doc.send(
      new GetCommand({
        TableName: tables.topGenres,
        Key: commitKey(listenDate),
        ConsistentRead: true,
        ...(projection ? { ProjectionExpression: "#version, #state", ExpressionAttributeNames: names } : {}),
      }),
    );
    return out.Item as Item | undefined;
  }

  function dayOf(listenDate: string, commit: Item, stats: readonly Item[], songs: readonly Item[]): DayKpis {
    const read = new ItemReader(tables.topGenres, commitKey(listenDate));
    const version = read.integer(commit.version, "version");
    const updatedAt = read.string(commit.updated_at, "updated_at");
    if (commit.state !== DAY_COMPLETE) return unfinishedDay(listenDate, version, updatedAt);

    const topGenres: TopGenre[] = read.list(commit.top_genres, "top_genres").map((entry) => {
      const top = read.map(entry, "top_genres[]");
      return {
        listenDate,
        rank: read.integer(top.rank, "top_genres[].rank"),
        genre: read.string(top.track_genre, "top_genres[].track_genre"),
        listenCount: read.integer(top.listen_count, "top_genres[].listen_count"),
      };
    });

    // Every item of a complete write carries its version; anything else is not part of it.
    const genreStats: GenreStat[] = sortByUtf8(
      stats
        .filter((item) => versionOf(item) === version)
        .map((item) => {
          const r = new ItemReader(tables.kpis, { listen_date: listenDate, kpi_type: item.kpi_type });
          return {
            listenDate,
            genre: r.string(item.track_genre, "track_genre"),
            listenCount: r.integer(item.listen_count, "listen_count"),
            uniqueListeners: r.integer(item.unique_listeners, "unique_listeners"),
            totalListeningTimeMs: r.integer(item.total_listening_time_ms, "total_listening_time_ms"),
            avgListeningTimePerUserMs: r.number(
              item.avg_listening_time_per_user_ms,
              "avg_listening_time_per_user_ms",
            ),
          };
        }),
      (stat) => stat.genre,
    );

    const topSongs: TopSong[] = sortByUtf8(
      songs.filter((item) => versionOf(item) === version),
      (item) => String(item.track_genre),
    ).flatMap((item) => {
      const r = new ItemReader(tables.topSongs, { listen_date: listenDate, track_genre: item.track_genre });
      const genre = r.string(item.track_genre, "track_genre");
      return r
        .list(item.top_songs, "top_songs")
        .map((entry) => {
          const song = r.map(entry, "top_songs[]");
          const artists = r.optionalString(song.artists, "top_songs[].artists");
          return {
            listenDate,
            genre,
            rank: r.integer(song.rank, "top_songs[].rank"),
            trackId: r.string(song.track_id, "top_songs[].track_id"),
            trackName: r.string(song.track_name, "top_songs[].track_name"),
            ...(artists === undefined ? {} : { artists }),
            listenCount: r.integer(song.listen_count, "top_songs[].listen_count"),
          };
        })
        .sort((a, b) => a.rank - b.rank);
    });

    return {
      listenDate,
      genreStats,
      topSongs,
      topGenres: topGenres.sort((a, b) => a.rank - b.rank),
      sourceCount: read.integer(commit.source_count, "source_count"),
      sourcesDigest: read.string(commit.sources_digest, "sources_digest"),
      version,
      updatedAt,
    };
  }

  const queryDate = (table: string, listenDate: string, keyOnly?: string) =>
    queryAll(doc, {
      TableName: table,
      KeyConditionExpression: "#date = :date",
      ExpressionAttributeNames: {
        "#date": "listen_date",
        ...(keyOnly === undefined ? {} : { "#key": keyOnly }),
      },
      ExpressionAttributeValues: { ":date": listenDate },
      ConsistentRead: true,
      ...(keyOnly === undefined ? {} : { ProjectionExpression: "#key" }),
    });

  /** The failure of a write whose claimed version a newer writer has taken over. */
  function overtaken(what: string, version: number, found: number, cause: unknown): ConditionFailedError {
    return new ConditionFailedError(
      `${what} refused: a newer write took the date over (this write claimed version ${version}, the date is now at ${found})`,
      { cause },
    );
  }

  return {
    async getDay(listenDate) {
      let latest: Item | undefined;
      for (let attempt = 0; attempt < READ_TRIES; attempt++) {
        const commit = await readCommit(listenDate);
        if (commit === undefined || !isVersioned(commit)) return undefined;
        latest = commit;
        if (commit.state !== DAY_COMPLETE) return dayOf(listenDate, commit, [], []);
        const [stats, songs] = await Promise.all([
          queryDate(tables.kpis, listenDate),
          queryDate(tables.topSongs, listenDate),
        ]);
        // Items of a newer write can only land after that write claimed the date (changing its
        // version), so an unchanged version means the queries saw exactly this write's items.
        const after = await readCommit(listenDate, true);
        if (after !== undefined && versionOf(after) === versionOf(commit) && after.state === DAY_COMPLETE) {
          return dayOf(listenDate, commit, stats, songs);
        }
        await sleep(backoffDelay(attempt, { baseDelayMs: 20, maxDelayMs: 200 }));
      }
      // A writer keeps replacing the date: report it as being written.
      const read = new ItemReader(tables.topGenres, commitKey(listenDate));
      return unfinishedDay(
        listenDate,
        read.integer(latest?.version, "version"),
        read.string(latest?.updated_at, "updated_at"),
      );
    },

    async putDay(day, expectedVersion) {
      const what = `KPI write of listen date '${day?.listenDate}'`;
      checkExpectedVersion(what, expectedVersion);
      checkDay(what, day);
      const version = expectedVersion + 1;
      const options = retry();
      const key = commitKey(day.listenDate);

      // 1. Claim the date: from now on only this write's items can land.
      try {
        await retryTransient(
          () =>
            doc.send(
              new UpdateCommand({
                TableName: tables.topGenres,
                Key: key,
                UpdateExpression: "SET #version = :version, #state = :writing, updated_at = :updatedAt",
                ConditionExpression:
                  expectedVersion === 0 ? "attribute_not_exists(#version)" : "#version = :expected",
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: {
                  ":version": version,
                  ":writing": DAY_WRITING,
                  ":updatedAt": day.updatedAt,
                  ...(expectedVersion === 0 ? {} : { ":expected": expectedVersion }),
                },
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
              }),
            ),
          options,
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        const found = versionInError((error as { Item?: unknown }).Item);
        throw versionConflict(what, expectedVersion, found, { cause: error });
      }

      // 2. Write every item, and delete the items of genres no longer in the day, in
      // transactions that each re-check the claim.
      const stats = day.genreStats.map((stat) => statItem(day, stat, version));
      const songs = songItems(day, version);
      const [storedStats, storedSongs] = await Promise.all([
        queryDate(tables.kpis, day.listenDate, "kpi_type"),
        queryDate(tables.topSongs, day.listenDate, "track_genre"),
      ]);
      const keptStats = new Set(stats.map((item) => item.kpi_type));
      const keptSongs = new Set(songs.map((item) => item.track_genre));
      const writes: TransactItem[] = [
        ...stats.map((item) => ({ Put: { TableName: tables.kpis, Item: item } })),
        ...songs.map((item) => ({ Put: { TableName: tables.topSongs, Item: item } })),
        ...storedStats
          .filter((item) => !keptStats.has(item.kpi_type))
          .map((item) => ({
            Delete: { TableName: tables.kpis, Key: { listen_date: day.listenDate, kpi_type: item.kpi_type } },
          })),
        ...storedSongs
          .filter((item) => !keptSongs.has(item.track_genre))
          .map((item) => ({
            Delete: {
              TableName: tables.topSongs,
              Key: { listen_date: day.listenDate, track_genre: item.track_genre },
            },
          })),
      ];
      const claimCheck: TransactItem = {
        ConditionCheck: {
          TableName: tables.topGenres,
          Key: key,
          ConditionExpression: "#version = :version",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":version": version },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      };
      // One transaction at a time: each holds the commit item (its ConditionCheck), and DynamoDB
      // cancels concurrent transactions on one item with TransactionConflict.
      for (const chunk of transactionChunks(writes)) {
        try {
          await retryTransient(
            () => doc.send(new TransactWriteCommand({ TransactItems: [claimCheck, ...chunk] })),
            options,
          );
        } catch (error) {
          const reason = cancellationReasons(error)[0];
          if (reason?.Code !== "ConditionalCheckFailed") throw error;
          throw overtaken(what, version, versionInError(reason.Item), error);
        }
      }

      // 3. Commit: the date's KPIs are complete.
      const topGenres = topGenresList(day);
      try {
        await retryTransient(
          () =>
            doc.send(
              new UpdateCommand({
                TableName: tables.topGenres,
                Key: key,
                UpdateExpression:
                  "SET top_genres = :topGenres, source_count = :sourceCount, sources_digest = :sourcesDigest, #state = :complete, updated_at = :updatedAt",
                ConditionExpression: "#version = :version",
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: {
                  ":topGenres": topGenres,
                  ":sourceCount": day.sourceCount,
                  ":sourcesDigest": day.sourcesDigest,
                  ":complete": DAY_COMPLETE,
                  ":updatedAt": day.updatedAt,
                  ":version": version,
                },
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
              }),
            ),
          options,
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        throw overtaken(what, version, versionInError((error as { Item?: unknown }).Item), error);
      }

      // What getDay returns for this write: the same mapping both ways.
      const commit: Item = {
        listen_date: day.listenDate,
        version,
        state: DAY_COMPLETE,
        top_genres: topGenres,
        source_count: day.sourceCount,
        sources_digest: day.sourcesDigest,
        updated_at: day.updatedAt,
      };
      return dayOf(day.listenDate, commit, stats, songs);
    },

    async *listDates() {
      const items = await scanAll(doc, {
        TableName: tables.topGenres,
        ProjectionExpression: "listen_date, #version",
        ExpressionAttributeNames: { "#version": "version" },
        ConsistentRead: true,
      });
      const dates = items.filter(isVersioned).map((item) => String(item.listen_date));
      yield* dates.sort(compareUtf8);
    },
  };
}

/** Splits `writes` into transactions of at most 24 writes and well under 4 MB. */
function transactionChunks(writes: readonly TransactItem[]): TransactItem[][] {
  const chunks: TransactItem[][] = [];
  let chunk: TransactItem[] = [];
  let bytes = 0;
  for (const write of writes) {
    const size = Buffer.byteLength(JSON.stringify(write), "utf8");
    if (chunk.length > 0 && (chunk.length >= TRANSACTION_WRITES || bytes + size > TRANSACTION_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(write);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
