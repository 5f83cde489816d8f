import {
  ConditionFailedError,
  ConfigurationError,
  type DayStatePointer,
  type DayStateStore,
  type FileStatusStore,
  type KpiStore,
  MusicpipeError,
  type PartialStore,
} from "@musicpipe/core";

/** The table ports, as {@link createMemoryTables} and {@link createLocalTables} build them. */
export interface Tables {
  /** KPIs per listen date. */
  readonly kpis: KpiStore;
  /** Per-file status records. */
  readonly files: FileStatusStore;
  /** KPI partials per (listen date, fingerprint), until loaded. */
  readonly partials: PartialStore;
  /** Pointers to the day states, per (listen date, listener shard). */
  readonly days: DayStateStore;
}

/** Checks a day state pointer's fields before it is stored; a malformed one is a ConfigurationError. */
export function checkPointer(what: string, pointer: Omit<DayStatePointer, "version">): void {
  const fail = (problem: string): never => {
    throw new ConfigurationError(`${what}: ${problem}`);
  };
  if (typeof pointer?.listenDate !== "string" || pointer.listenDate === "")
    fail("listenDate must be a non-empty string");
  const whole = (name: keyof typeof pointer, min: number) => {
    const v = pointer[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min)
      fail(`${name} must be a whole number >= ${min}`);
  };
  whole("shard", 0);
  whole("shards", 1);
  whole("summaryBytes", 0);
  whole("sourceCount", 0);
  if (pointer.shard >= pointer.shards) fail(`shard ${pointer.shard} is not below shards ${pointer.shards}`);
  for (const name of ["stateKey", "sourcesDigest", "catalog", "updatedAt"] as const) {
    if (typeof pointer[name] !== "string" || pointer[name] === "") fail(`${name} must be a non-empty string`);
  }
}

/**
 * A file of the local tables folder cannot be read: not JSON, or not a record of the kind and
 * key its name says. `file` and `path` name the file.
 */
export class TableFormatError extends MusicpipeError {
  /** The path of the unreadable file. */
  readonly path: string;

  constructor(path: string, problem: string, options: { readonly cause?: unknown } = {}) {
    super("invalid_table_file", `table file '${path}' ${problem}`, { file: path, cause: options.cause });
    this.path = path;
  }
}

/** Fails unless `expectedVersion` is a version number (a non-negative integer). */
export function checkExpectedVersion(what: string, expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new ConfigurationError(
      `${what}: expectedVersion must be a non-negative integer, got ${expectedVersion}`,
    );
  }
}

/** The error of a conditional write that found another version than it expected. */
export function versionConflict(
  what: string,
  expected: number,
  found: number,
  file?: string,
): ConditionFailedError {
  const state = (version: number) => (version === 0 ? "0 (nothing stored)" : String(version));
  return new ConditionFailedError(
    `${what} refused: expected stored version ${state(expected)}, found ${state(found)}`,
    file === undefined ? {} : { file },
  );
}

/** Orders strings by their UTF-8 bytes. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Sorts `items` by the UTF-8 bytes of `keyOf(item)`, encoding each key once. */
export function sortByUtf8<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, order: Buffer.from(keyOf(item), "utf8") }))
    .sort((a, b) => Buffer.compare(a.order, b.order))
    .map(({ item }) => item);
}
