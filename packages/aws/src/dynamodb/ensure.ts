import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { ConfigurationError } from "@musicpipe/core";
import { checkPositive, resolveClient, resolveTableNames, type TableNames } from "./options.js";

/** The key of each table: partition key, then the sort key when there is one (strings, but `shard`, a number). */
export const TABLE_KEYS: Readonly<Record<keyof TableNames, readonly string[]>> = Object.freeze({
  kpis: ["listen_date", "kpi_type"],
  topSongs: ["listen_date", "track_genre"],
  topGenres: ["listen_date"],
  files: ["file_key"],
  partials: ["listen_date", "fingerprint"],
  dayStates: ["listen_date", "shard"],
});

/** Key attributes that are numbers. */
const NUMBER_KEYS = new Set(["shard"]);

/**
 * The sparse index of the files table over its unfinished records: only they carry the
 * `unfinished` attribute, so a run finds interrupted work by reading them, not every record.
 */
export const UNFINISHED_INDEX = { name: "unfinished", attribute: "unfinished" } as const;

/** Options of {@link ensureTables}. */
export interface EnsureTablesOptions {
  /**
   * The client to use.
   * @default new DynamoDBClient({}) (region, credentials and `AWS_ENDPOINT_URL_DYNAMODB` from the environment)
   */
  readonly client?: DynamoDBClient | undefined;
  /**
   * Names of the tables, by role; missing roles keep their default.
   * @default DEFAULT_TABLE_NAMES
   */
  readonly tableNames?: Partial<TableNames> | undefined;
  /**
   * How long to wait for created tables to become ACTIVE.
   * @default 300
   */
  readonly maxWaitSeconds?: number | undefined;
}

/** What {@link ensureTables} found and did. */
export interface EnsureTablesResult {
  /** Tables it created. */
  readonly created: string[];
  /** Tables that were there already (with the expected key). */
  readonly existing: string[];
}

function nameOf(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

function keyOf(schema: readonly KeySchemaElement[] | undefined): string[] {
  const hash = schema?.find((k) => k.KeyType === "HASH")?.AttributeName;
  const range = schema?.find((k) => k.KeyType === "RANGE")?.AttributeName;
  return [hash, range].filter((name): name is string => name !== undefined);
}

/**
 * Creates the musicpipe tables that are missing (on-demand capacity, `PAY_PER_REQUEST`) and
 * waits until they are ACTIVE. Tables that exist are left as they are, after checking that
 * their key is the one musicpipe expects (otherwise: `ConfigurationError`). Safe to run any
 * number of times, also concurrently. Needs `dynamodb:DescribeTable` and
 * `dynamodb:CreateTable`: run it from a setup step (`musicpipe init`), not from the pipeline.
 *
 * | table | key |
 * |---|---|
 * | MusicStreamingKPIs | `listen_date` (S), `kpi_type` (S) |
 * | TopSongsByGenre | `listen_date` (S), `track_genre` (S) |
 * | TopGenresByDay | `listen_date` (S) |
 * | FileValidationMetadata | `file_key` (S); sparse index `unfinished` (`unfinished` S, `file_key` S) |
 * | MusicpipePartials | `listen_date` (S), `fingerprint` (S) |
 * | MusicpipeDayStates | `listen_date` (S), `shard` (N) |
 *
 * @example
 * const { created } = await ensureTables({ tableNames: { kpis: "StagingKPIs" } });
 */
export async function ensureTables(options: EnsureTablesOptions = {}): Promise<EnsureTablesResult> {
  const where = "ensureTables";
  const client = resolveClient(where, options.client);
  const names = resolveTableNames(where, options.tableNames);
  checkPositive(where, "maxWaitSeconds", options.maxWaitSeconds, false);
  const maxWaitTime = options.maxWaitSeconds ?? 300;

  const created: string[] = [];
  const existing: string[] = [];
  await Promise.all(
    (Object.keys(TABLE_KEYS) as (keyof TableNames)[]).map(async (role) => {
      const table = names[role];
      const key = TABLE_KEYS[role];
      let found: string[] | undefined;
      try {
        const out = await client.send(new DescribeTableCommand({ TableName: table }));
        found = keyOf(out.Table?.KeySchema);
      } catch (error) {
        if (nameOf(error) !== "ResourceNotFoundException") throw error;
      }
      if (found === undefined) {
        const indexed = role === "files";
        try {
          await client.send(
            new CreateTableCommand({
              TableName: table,
              BillingMode: "PAY_PER_REQUEST",
              AttributeDefinitions: [...key, ...(indexed ? [UNFINISHED_INDEX.attribute] : [])].map(
                (name): AttributeDefinition => ({
                  AttributeName: name,
                  AttributeType: NUMBER_KEYS.has(name) ? "N" : "S",
                }),
              ),
              KeySchema: key.map(
                (name, i): KeySchemaElement => ({ AttributeName: name, KeyType: i === 0 ? "HASH" : "RANGE" }),
              ),
              ...(indexed
                ? {
                    GlobalSecondaryIndexes: [
                      {
                        IndexName: UNFINISHED_INDEX.name,
                        KeySchema: [
                          { AttributeName: UNFINISHED_INDEX.attribute, KeyType: "HASH" },
                          { AttributeName: "file_key", KeyType: "RANGE" },
                        ],
                        Projection: { ProjectionType: "ALL" },
                      },
                    ],
                  }
                : {}),
            }),
          );
          created.push(table);
        } catch (error) {
          // Someone else created it since we looked.
          if (nameOf(error) !== "ResourceInUseException") throw error;
          existing.push(table);
        }
      } else if (found.join(",") !== key.join(",")) {
        throw new ConfigurationError(
          `${where}: table '${table}' (tableNames.${role}) exists with key (${found.join(", ")}), expected (${key.join(", ")})`,
        );
      } else {
        existing.push(table);
      }
      // Also for existing tables: one may still be CREATING.
      await waitUntilTableExists({ client, maxWaitTime, minDelay: 1, maxDelay: 10 }, { TableName: table });
    }),
  );
  return { created: created.sort(), existing: existing.sort() };
}
