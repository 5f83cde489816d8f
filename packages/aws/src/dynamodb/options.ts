import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ConfigurationError } from "@musicpipe/core";

/** The names of the DynamoDB tables musicpipe uses. */
export interface TableNames {
  /**
   * Daily statistics per genre (key `listen_date`, `kpi_type`).
   * @default "MusicStreamingKPIs"
   */
  readonly kpis: string;
  /**
   * Top 3 songs per genre and day (key `listen_date`, `track_genre`).
   * @default "TopSongsByGenre"
   */
  readonly topSongs: string;
  /**
   * Top 5 genres per day, and the commit record of a day's KPI write (key `listen_date`).
   * @default "TopGenresByDay"
   */
  readonly topGenres: string;
  /**
   * Per-file status records (key `file_key`).
   * @default "FileValidationMetadata"
   */
  readonly files: string;
  /**
   * Index of the KPI partials stored in the object store (key `listen_date`, `fingerprint`).
   * @default "MusicpipePartials"
   */
  readonly partials: string;
  /**
   * Pointers to the day states stored in the object store (key `listen_date`, `shard`).
   * @default "MusicpipeDayStates"
   */
  readonly dayStates: string;
}

/** The table names of the original Python pipeline, plus `MusicpipePartials` and `MusicpipeDayStates`. */
export const DEFAULT_TABLE_NAMES: Readonly<TableNames> = Object.freeze({
  kpis: "MusicStreamingKPIs",
  topSongs: "TopSongsByGenre",
  topGenres: "TopGenresByDay",
  files: "FileValidationMetadata",
  partials: "MusicpipePartials",
  dayStates: "MusicpipeDayStates",
});

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** `DEFAULT_TABLE_NAMES` with `names` applied, checked against DynamoDB's naming rules. */
export function resolveTableNames(where: string, names: Partial<TableNames> | undefined): TableNames {
  if (names !== undefined && (typeof names !== "object" || names === null)) {
    throw new ConfigurationError(`${where}: 'tableNames' must be an object`);
  }
  const resolved: Record<string, string> = { ...DEFAULT_TABLE_NAMES };
  for (const [role, value] of Object.entries(names ?? {})) {
    if (!(role in DEFAULT_TABLE_NAMES)) {
      throw new ConfigurationError(
        `${where}: unknown table role 'tableNames.${role}' (known: ${Object.keys(DEFAULT_TABLE_NAMES).join(", ")})`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== "string" || !TABLE_NAME.test(value)) {
      throw new ConfigurationError(
        `${where}: 'tableNames.${role}' must be a DynamoDB table name (3-255 characters of A-Z a-z 0-9 _ . -), got ${JSON.stringify(value)}`,
      );
    }
    resolved[role] = value;
  }
  const seen = new Map<string, string>();
  for (const [role, name] of Object.entries(resolved)) {
    const other = seen.get(name);
    if (other !== undefined) {
      throw new ConfigurationError(
        `${where}: 'tableNames.${other}' and 'tableNames.${role}' are both '${name}'`,
      );
    }
    seen.set(name, role);
  }
  return resolved as unknown as TableNames;
}

/** The client given, checked, or a new `DynamoDBClient` configured from the environment. */
export function resolveClient(where: string, client: DynamoDBClient | undefined): DynamoDBClient {
  if (client === undefined) return new DynamoDBClient({});
  if (
    typeof client !== "object" ||
    client === null ||
    typeof (client as { send?: unknown }).send !== "function"
  ) {
    throw new ConfigurationError(`${where}: 'client' must be a DynamoDBClient`);
  }
  return client;
}

/**
 * A document client of its own over `client`: two `DynamoDBDocumentClient.from()` over one
 * client were seen sharing settings, so each adapter set builds exactly one.
 */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
    // Numbers beyond 2^53 would lose precision: reading one fails instead (we never write one).
    unmarshallOptions: { wrapNumbers: false },
  });
}

/** Fails unless `value` is undefined or a positive number (an integer when `integer`). */
export function checkPositive(where: string, name: string, value: unknown, integer: boolean): void {
  if (value === undefined) return;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isSafeInteger(value))
  ) {
    throw new ConfigurationError(
      `${where}: '${name}' must be a positive ${integer ? "integer" : "number"}, got ${String(value)}`,
    );
  }
}
