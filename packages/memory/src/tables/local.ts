import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigurationError, type DayKpis, type FileRecord, type StoredPartial } from "@musicpipe/core";
import {
  checkExpectedVersion,
  sortByUtf8,
  TableFormatError,
  type Tables,
  versionConflict,
} from "./shared.js";

/** Options of {@link createLocalTables}. */
export interface LocalTablesOptions {
  /**
   * The folder holding the tables (the CLI uses `<root>/.musicpipe`). Created on the first
   * write when missing.
   */
  readonly dir: string;
}

const TEMP_PREFIX = ".musicpipe-tmp-";
const SUFFIX = ".json";
/** Longest encoded name kept readable; longer ones end in a hash (file names stop at 255 bytes). */
const MAX_NAME = 200;

function isSafeByte(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x5f || // _
    byte === 0x2e // .
  );
}

/**
 * A file name (without `.json`) for a table key: every UTF-8 byte outside `a-z 0-9 - _ .` as
 * `%XX`. Upper-case letters are escaped too, so keys differing only in case stay apart on
 * case-insensitive file systems. Long names (or keys that are not valid Unicode) end in
 * `#<sha256>`: `#` never appears in an encoded name, so those cannot collide with one.
 */
export function encodeTableName(key: string): string {
  let name = "";
  for (const byte of Buffer.from(key, "utf8")) {
    name += isSafeByte(byte)
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (name.length > MAX_NAME || /\p{Cs}/u.test(key)) {
    const hash = createHash("sha256").update(JSON.stringify(key)).digest("hex");
    name = `${name.slice(0, MAX_NAME - 80)}#${hash}`;
  }
  return name;
}

/** The key of an encoded name, or `undefined` for a hashed name (read the file instead). */
function decodeTableName(name: string): string | undefined {
  if (name.includes("#")) return undefined;
  try {
    return decodeURIComponent(name);
  } catch {
    return undefined;
  }
}

/** Writes of one process to one record file, one after another (key: absolute path). */
const queues = new Map<string, Promise<unknown>>();

/** Runs `task` after every earlier task queued on `path` in this process has settled. */
async function serialized<T>(path: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  queues.set(path, tail);
  try {
    return await run;
  } finally {
    if (queues.get(path) === tail) queues.delete(path);
  }
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new TableFormatError(path, `is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

async function writeJsonAtomically(
  path: string,
  folder: string,
  value: unknown,
  pretty: boolean,
): Promise<void> {
  await mkdir(folder, { recursive: true });
  const temp = join(folder, `${TEMP_PREFIX}${randomUUID()}`);
  try {
    await writeFile(temp, `${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`, { flag: "wx" });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Names of the record files of a folder; none when the folder does not exist. */
async function recordNames(folder: string): Promise<string[]> {
  try {
    // Temporary files never end in `.json`.
    return (await readdir(folder)).filter((name) => name.endsWith(SUFFIX));
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return [];
    throw error;
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkVersioned(path: string, value: unknown, keyField: string, key: string | undefined): Json {
  if (!isObject(value)) throw new TableFormatError(path, "does not hold a JSON object");
  const stored = value[keyField];
  if (typeof stored !== "string") throw new TableFormatError(path, `has no string '${keyField}'`);
  if (key !== undefined && stored !== key) {
    throw new TableFormatError(path, `holds the record of '${stored}', not of '${key}'`);
  }
  const version = value.version;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new TableFormatError(path, "has no positive integer 'version'");
  }
  return value;
}

function checkDay(path: string, value: unknown, listenDate: string | undefined): DayKpis {
  const day = checkVersioned(path, value, "listenDate", listenDate);
  for (const field of ["genreStats", "topSongs", "topGenres", "sources"]) {
    if (!Array.isArray(day[field])) throw new TableFormatError(path, `has no array '${field}'`);
  }
  return day as unknown as DayKpis;
}

function checkRecord(path: string, value: unknown, fileKey: string | undefined): FileRecord {
  return checkVersioned(path, value, "fileKey", fileKey) as unknown as FileRecord;
}

function checkPartial(path: string, value: unknown, listenDate: string): StoredPartial {
  if (!isObject(value)) throw new TableFormatError(path, "does not hold a JSON object");
  if (value.listenDate !== listenDate) {
    throw new TableFormatError(
      path,
      `holds a partial of '${String(value.listenDate)}', not of '${listenDate}'`,
    );
  }
  if (typeof value.fingerprint !== "string") throw new TableFormatError(path, "has no string 'fingerprint'");
  if (!isObject(value.state)) throw new TableFormatError(path, "has no object 'state'");
  return value as unknown as StoredPartial;
}

/** What a JSON file would give back: drops `undefined` fields, copies everything. */
function asStored<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The table ports persisted as JSON files under `dir`, one file per record, for local runs:
 *
 * - `dir/kpis/<date>.json`, `dir/files/<fileKey>.json`, `dir/partials/<date>/<fingerprint>.json`,
 *   names encoded by {@link encodeTableName} (`data/raw/s1.csv` → `data%2Fraw%2Fs1.csv.json`);
 * - every write goes to a temporary file that is renamed over the record, so a crash never
 *   leaves a half-written record;
 * - conditional writes (versions, as in {@link createMemoryTables}) read, check and write under
 *   a per-record lock shared by every `createLocalTables` of this process.
 *
 * The locks do not span processes: **use a folder from one process at a time.** A file that
 * is not a valid record fails reads with {@link TableFormatError} naming its path.
 *
 * @example
 * const tables = createLocalTables({ dir: "./bucket/.musicpipe" });
 * const record = await tables.files.get("data/raw/streams/s1.csv");
 */
export function createLocalTables(options: LocalTablesOptions): Tables {
  if (typeof options?.dir !== "string" || options.dir.length === 0) {
    throw new ConfigurationError("createLocalTables: 'dir' must be a non-empty folder path");
  }
  const dir = resolve(options.dir);
  const kpiFolder = join(dir, "kpis");
  const fileFolder = join(dir, "files");
  const partialFolder = (listenDate: string) => join(dir, "partials", encodeTableName(listenDate));
  const kpiPath = (listenDate: string) => join(kpiFolder, `${encodeTableName(listenDate)}${SUFFIX}`);
  const filePath = (fileKey: string) => join(fileFolder, `${encodeTableName(fileKey)}${SUFFIX}`);

  async function readDay(listenDate: string): Promise<DayKpis | undefined> {
    const path = kpiPath(listenDate);
    const value = await readJson(path);
    return value === undefined ? undefined : checkDay(path, value, listenDate);
  }

  async function readRecord(fileKey: string): Promise<FileRecord | undefined> {
    const path = filePath(fileKey);
    const value = await readJson(path);
    return value === undefined ? undefined : checkRecord(path, value, fileKey);
  }

  return {
    kpis: {
      getDay: readDay,
      async putDay(day, expectedVersion) {
        const what = `KPI write of listen date '${day.listenDate}'`;
        checkExpectedVersion(what, expectedVersion);
        const path = kpiPath(day.listenDate);
        return serialized(path, async () => {
          const found = (await readDay(day.listenDate))?.version ?? 0;
          if (found !== expectedVersion) throw versionConflict(what, expectedVersion, found);
          const stored = asStored<DayKpis>({ ...day, version: expectedVersion + 1 });
          await writeJsonAtomically(path, kpiFolder, stored, true);
          return stored;
        });
      },
      async *listDates() {
        const dates: string[] = [];
        for (const name of await recordNames(kpiFolder)) {
          const decoded = decodeTableName(name.slice(0, -SUFFIX.length));
          if (decoded !== undefined) {
            dates.push(decoded);
          } else {
            const path = join(kpiFolder, name);
            const value = await readJson(path);
            if (value !== undefined) dates.push(checkDay(path, value, undefined).listenDate);
          }
        }
        yield* sortByUtf8(dates, (date) => date);
      },
    },

    files: {
      get: readRecord,
      async put(record, expectedVersion) {
        const what = `file status write of '${record.fileKey}'`;
        checkExpectedVersion(what, expectedVersion);
        const path = filePath(record.fileKey);
        return serialized(path, async () => {
          const found = (await readRecord(record.fileKey))?.version ?? 0;
          if (found !== expectedVersion) throw versionConflict(what, expectedVersion, found, record.fileKey);
          const stored = asStored<FileRecord>({ ...record, version: expectedVersion + 1 });
          await writeJsonAtomically(path, fileFolder, stored, true);
          return stored;
        });
      },
      async *list() {
        const records: FileRecord[] = [];
        for (const name of await recordNames(fileFolder)) {
          const path = join(fileFolder, name);
          const value = await readJson(path);
          if (value !== undefined) records.push(checkRecord(path, value, undefined));
        }
        yield* sortByUtf8(records, (record) => record.fileKey);
      },
    },

    partials: {
      async put(partial) {
        const folder = partialFolder(partial.listenDate);
        const path = join(folder, `${encodeTableName(partial.fingerprint)}${SUFFIX}`);
        await serialized(path, () => writeJsonAtomically(path, folder, asStored(partial), false));
      },
      async *listDate(listenDate) {
        const folder = partialFolder(listenDate);
        const partials: StoredPartial[] = [];
        for (const name of await recordNames(folder)) {
          const path = join(folder, name);
          const value = await readJson(path);
          if (value !== undefined) partials.push(checkPartial(path, value, listenDate));
        }
        yield* sortByUtf8(partials, (partial) => partial.fingerprint);
      },
    },
  };
}
