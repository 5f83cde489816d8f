import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ConfigurationError } from "@musicpipe/core";
import { createMemoryObjectStore } from "@musicpipe/memory";
import { describe, expect, it } from "vitest";
import { createDynamoDbTables, DEFAULT_TABLE_NAMES, ensureTables } from "../../src/dynamodb/index.js";

/** A client that must never be called: options are checked before any request. */
function unusedClient(): DynamoDBClient {
  const client = new DynamoDBClient({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
  });
  client.send = () => {
    throw new Error("no request expected");
  };
  return client;
}

const partialObjects = createMemoryObjectStore();

function configurationError(build: () => unknown): ConfigurationError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error("expected a ConfigurationError");
}

describe("createDynamoDbTables options", () => {
  it("defaults to the seed pipeline's table names", () => {
    expect(DEFAULT_TABLE_NAMES).toEqual({
      kpis: "MusicStreamingKPIs",
      topSongs: "TopSongsByGenre",
      topGenres: "TopGenresByDay",
      files: "FileValidationMetadata",
      partials: "MusicpipePartials",
      dayStates: "MusicpipeDayStates",
    });
  });

  it("builds the ports without sending a request", () => {
    const tables = createDynamoDbTables({ client: unusedClient(), partialObjects });
    expect(Object.keys(tables).sort()).toEqual(["days", "files", "kpis", "partials"]);
  });

  it("requires an object store for the partial states", () => {
    const error = configurationError(() =>
      createDynamoDbTables({ client: unusedClient() } as unknown as Parameters<
        typeof createDynamoDbTables
      >[0]),
    );
    expect(error.message).toContain("partialObjects");
  });

  it("refuses two roles with one table name, unknown roles and invalid names", () => {
    const client = unusedClient();
    const same = configurationError(() =>
      createDynamoDbTables({ client, partialObjects, tableNames: { kpis: "Tab1", topSongs: "Tab1" } }),
    );
    expect(same.message).toContain("'tableNames.kpis' and 'tableNames.topSongs'");
    configurationError(() =>
      createDynamoDbTables({
        client,
        partialObjects,
        tableNames: { kpi: "Tab1" } as unknown as { kpis: string },
      }),
    );
    configurationError(() => createDynamoDbTables({ client, partialObjects, tableNames: { files: "a b" } }));
    configurationError(() => createDynamoDbTables({ client, partialObjects, tableNames: { files: "ab" } }));
  });

  it("refuses a non-positive time budget or concurrency, and an absolute prefix", () => {
    const client = unusedClient();
    configurationError(() => createDynamoDbTables({ client, partialObjects, batchTimeBudgetMs: 0 }));
    configurationError(() => createDynamoDbTables({ client, partialObjects, writeConcurrency: 0 }));
    configurationError(() => createDynamoDbTables({ client, partialObjects, writeConcurrency: 2.5 }));
    configurationError(() => createDynamoDbTables({ client, partialObjects, partialPrefix: "/partials/" }));
  });

  it("refuses a negative or fractional expected version before any request", async () => {
    const { kpis, files } = createDynamoDbTables({ client: unusedClient(), partialObjects });
    const day = {
      listenDate: "2025-06-22",
      genreStats: [],
      topSongs: [],
      topGenres: [],
      sourceCount: 0,
      sourcesDigest: "0".repeat(64),
      updatedAt: "",
    };
    await expect(kpis.putDay(day, -1)).rejects.toBeInstanceOf(ConfigurationError);
    await expect(kpis.putDay(day, 1.5)).rejects.toBeInstanceOf(ConfigurationError);
    await expect(
      files.put(
        {
          fileKey: "k",
          fileType: "streams",
          etag: "e",
          size: 1,
          deliveries: 1,
          attempts: 1,
          validationStatus: "PENDING",
          kpiIngestionStatus: "PENDING",
          archivalStatus: "PENDING",
        },
        -1,
      ),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });

  it("refuses a day whose entries belong to another date or repeat a genre", async () => {
    const { kpis } = createDynamoDbTables({ client: unusedClient(), partialObjects });
    const stat = {
      listenDate: "2025-06-22",
      genre: "pop",
      listenCount: 1,
      uniqueListeners: 1,
      totalListeningTimeMs: 1,
      avgListeningTimePerUserMs: 1,
    };
    const day = {
      listenDate: "2025-06-22",
      genreStats: [stat],
      topSongs: [],
      topGenres: [],
      sourceCount: 0,
      sourcesDigest: "0".repeat(64),
      updatedAt: "",
    };
    await expect(kpis.putDay({ ...day, genreStats: [stat, stat] }, 0)).rejects.toThrow("genre 'pop' twice");
    await expect(
      kpis.putDay({ ...day, genreStats: [{ ...stat, listenDate: "2025-06-23" }] }, 0),
    ).rejects.toThrow("listen date '2025-06-23'");
  });
});

describe("ensureTables options", () => {
  it("refuses invalid table names before any request", async () => {
    await expect(ensureTables({ client: unusedClient(), tableNames: { kpis: "x" } })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });
});
