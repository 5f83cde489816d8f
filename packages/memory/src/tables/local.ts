import { createHash, randomUUID } from "node:crypto";
import { link, mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  ConfigurationError,
  type DayKpis,
  type DayStatePointer,
  type FileRecord,
  isFinished,
  ObjectNotFoundError,
} from "@musicpipe/core";
import { AtomicWrites, commitMakingFolder, unlinkQuietly, writeNewFile } from "../temp-files.js";
import {
  checkExpectedVersion,
  checkPointer,
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

const SUFFIX = ".json";
/** A partial's blob, beside its `.json` record. */
const BLOB_SUFFIX = ".mpk";
/** A record's write lock, beside it (see {@link serialized}). */
const LOCK_SUFFIX = ".lock";
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

/**
 * How long a record's write lock may stay before another process takes it over: a writer
 * holds it for one read and one rename, so a lock this old was left by a process that died.
 */
const LOCK_STALE_MS = 10_000;

/**
 * Runs `task` after every earlier task queued on `path` in this process has settled, holding
 * `<path>.lock` meanwhile, so that a conditional write (read, compare, rename) is one step
 * for every process sharing the folder, not only for this one.
 */
async function serialized<T>(path: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve();
  const locked = () => withFileLock(path, task);
  const run = previous.then(locked, locked);
  const tail = run.catch(() => undefined);
  queues.set(path, tail);
  try {
    return await run;
  } finally {
    if (queues.get(path) === tail) queues.delete(path);
  }
}

async function withFileLock<T>(path: string, task: () => Promise<T>): Promise<T> {
  const lock = `${path}${LOCK_SUFFIX}`;
  const token = randomUUID();
  let held: bigint | undefined;
  for (let attempt = 0; held === undefined; attempt++) {
    try {
      await writeFile(lock, token, { flag: "wx" });
      held = (await stat(lock, { bigint: true })).ino;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ENOENT") {
        await mkdir(dirname(lock), { recursive: true });
        continue;
      }
      if (code !== "EEXIST") throw error;
      const found = await stat(lock).catch(() => undefined);
      if (found !== undefined && Date.now() - found.mtimeMs > LOCK_STALE_MS) {
        // Left by a writer that died: moved aside under a name of its own (one taker wins).
        const aside = `${lock}-${token}`;
        if (
          await rename(lock, aside).then(
            () => true,
            () => false,
          )
        ) {
          const taken = await stat(aside).catch(() => undefined);
          // A fresh lock moved aside by mistake (taken over meanwhile) goes back.
          if (taken !== undefined && Date.now() - taken.mtimeMs <= LOCK_STALE_MS)
            await link(aside, lock).catch(() => undefined);
          await unlinkQuietly(aside);
        }
        continue;
      }
      await delay(Math.min(20, 1 + attempt) * Math.random());
    }
  }
  try {
    return await task();
  } finally {
    // Removed only while it is still this lock (the same file), not one taken over since.
    if ((await stat(lock, { bigint: true }).catch(() => undefined))?.ino === held) await unlinkQuietly(lock);
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
  writes: AtomicWrites,
  path: string,
  folder: string,
  value: unknown,
  pretty: boolean,
): Promise<void> {
  await writeAtomically(writes, path, folder, `${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`);
}

/** Writes `content` to a temporary file, then renames it over `path` (in `folder`). */
async function writeAtomically(
  writes: AtomicWrites,
  path: string,
  folder: string,
  content: string | Uint8Array,
): Promise<void> {
  await writes.write(
    path,
    (temp) => writeNewFile(temp, content),
    (temp, target) =>
      commitMakingFolder(
        () => rename(temp, target),
        async () => {
          await mkdir(folder, { recursive: true });
        },
      ),
  );
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
  for (const field of ["genreStats", "topSongs", "topGenres"]) {
    if (!Array.isArray(day[field])) throw new TableFormatError(path, `has no array '${field}'`);
  }
  if (typeof day.sourceCount !== "number" || typeof day.sourcesDigest !== "string")
    throw new TableFormatError(path, "has no 'sourceCount' and 'sourcesDigest'");
  return day as unknown as DayKpis;
}

function checkPointerFile(path: string, value: unknown, listenDate: string, shard: number): DayStatePointer {
  const pointer = checkVersioned(path, value, "listenDate", listenDate);
  if (pointer.shard !== shard)
    throw new TableFormatError(path, `holds shard ${String(pointer.shard)}, not ${shard}`);
  try {
    checkPointer(path, pointer as unknown as DayStatePointer);
  } catch (error) {
    throw new TableFormatError(path, `is not a day state pointer: ${(error as Error).message}`);
  }
  return pointer as unknown as DayStatePointer;
}

function checkRecord(path: string, value: unknown, fileKey: string | undefined): FileRecord {
  return checkVersioned(path, value, "fileKey", fileKey) as unknown as FileRecord;
}

interface PartialRecord {
  readonly listenDate: string;
  readonly fingerprint: string;
  readonly fileKey: string;
}

function checkPartial(path: string, value: unknown, listenDate: string): PartialRecord {
  if (!isObject(value)) throw new TableFormatError(path, "does not hold a JSON object");
  if (value.listenDate !== listenDate) {
    throw new TableFormatError(
      path,
      `holds a partial of '${String(value.listenDate)}', not of '${listenDate}'`,
    );
  }
  if (typeof value.fingerprint !== "string") throw new TableFormatError(path, "has no string 'fingerprint'");
  if (typeof value.fileKey !== "string") throw new TableFormatError(path, "has no string 'fileKey'");
  return value as unknown as PartialRecord;
}

/** What a JSON file would give back: drops `undefined` fields, copies everything. */
function asStored<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The table ports persisted as JSON files under `dir`, one file per record, for local runs:
 *
 * - `dir/kpis/<date>.json`, `dir/files/<fileKey>.json`, `dir/days/<date>/<shard>.json` (day
 *   state pointers), `dir/partials/<date>/<fingerprint>.json` with the partial's blob beside it
 *   (`.mpk`), names encoded by {@link encodeTableName} (`data/raw/s1.csv` → `data%2Fraw%2Fs1.csv.json`);
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
  const writes = new AtomicWrites(dir);
  const kpiFolder = join(dir, "kpis");
  const fileFolder = join(dir, "files");
  // One empty file per unfinished record (same name as the record's), for listUnfinished.
  const openFolder = join(dir, "files-open");
  const markerPath = (fileKey: string) => join(openFolder, `${encodeTableName(fileKey)}${SUFFIX}`);
  async function writeMarker(fileKey: string): Promise<void> {
    await mkdir(openFolder, { recursive: true });
    await writeFile(markerPath(fileKey), "");
  }
  /** The records of these file names (a name without a record is skipped), read a few at a time. */
  async function readRecords(names: readonly string[]): Promise<FileRecord[]> {
    const records: FileRecord[] = [];
    for (let i = 0; i < names.length; i += 32) {
      const read = await Promise.all(
        names.slice(i, i + 32).map(async (name) => {
          const path = join(fileFolder, name);
          const value = await readJson(path);
          return value === undefined ? undefined : checkRecord(path, value, undefined);
        }),
      );
      for (const record of read) if (record !== undefined) records.push(record);
    }
    return records;
  }
  const partialFolder = (listenDate: string) => join(dir, "partials", encodeTableName(listenDate));
  const dayFolder = (listenDate: string) => join(dir, "days", encodeTableName(listenDate));
  const pointerPath = (listenDate: string, shard: number) => join(dayFolder(listenDate), `${shard}${SUFFIX}`);

  async function readPointer(listenDate: string, shard: number): Promise<DayStatePointer | undefined> {
    const path = pointerPath(listenDate, shard);
    const value = await readJson(path);
    return value === undefined ? undefined : checkPointerFile(path, value, listenDate, shard);
  }
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
          await writeJsonAtomically(writes, path, kpiFolder, stored, true);
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
          const previous = await readRecord(record.fileKey);
          const found = previous?.version ?? 0;
          if (found !== expectedVersion) throw versionConflict(what, expectedVersion, found, record.fileKey);
          const stored = asStored<FileRecord>({ ...record, version: expectedVersion + 1 });
          // An unfinished record always has its marker: written before the record becomes
          // unfinished, removed after it is finished (a marker left behind is only read again).
          const open = !isFinished(stored);
          const wasOpen = previous !== undefined && !isFinished(previous);
          if (open && !wasOpen) await writeMarker(record.fileKey);
          await writeJsonAtomically(writes, path, fileFolder, stored, true);
          if (!open && wasOpen) await unlinkQuietly(markerPath(record.fileKey));
          return stored;
        });
      },
      async *list() {
        yield* sortByUtf8(await readRecords(await recordNames(fileFolder)), (record) => record.fileKey);
      },
      async *listUnfinished() {
        let names: string[];
        try {
          names = (await readdir(openFolder)).filter((name) => name.endsWith(SUFFIX));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
          // Tables written before the markers existed: every record is read once, and the
          // unfinished ones get their marker.
          const open = (await readRecords(await recordNames(fileFolder))).filter((r) => !isFinished(r));
          await mkdir(openFolder, { recursive: true });
          for (const record of open) await writeMarker(record.fileKey);
          yield* sortByUtf8(open, (record) => record.fileKey);
          return;
        }
        const records = await readRecords(names);
        yield* sortByUtf8(
          records.filter((record) => !isFinished(record)),
          (record) => record.fileKey,
        );
      },
    },

    partials: {
      async put(partial) {
        const folder = partialFolder(partial.listenDate);
        const name = encodeTableName(partial.fingerprint);
        const path = join(folder, `${name}${SUFFIX}`);
        await serialized(path, async () => {
          // The blob first: a listed record always has its blob.
          await writeAtomically(writes, join(folder, `${name}${BLOB_SUFFIX}`), folder, partial.blob);
          const record: PartialRecord = {
            listenDate: partial.listenDate,
            fingerprint: partial.fingerprint,
            fileKey: partial.fileKey,
          };
          await writeJsonAtomically(writes, path, folder, record, false);
        });
      },
      async *listDate(listenDate) {
        const folder = partialFolder(listenDate);
        const records: PartialRecord[] = [];
        for (const name of await recordNames(folder)) {
          const path = join(folder, name);
          const value = await readJson(path);
          if (value !== undefined) records.push(checkPartial(path, value, listenDate));
        }
        for (const record of sortByUtf8(records, (r) => r.fingerprint)) {
          const blob = join(folder, `${encodeTableName(record.fingerprint)}${BLOB_SUFFIX}`);
          yield {
            ...record,
            read: async () => {
              try {
                return new Uint8Array(await readFile(blob));
              } catch (error) {
                if ((error as { code?: unknown }).code === "ENOENT")
                  throw new ObjectNotFoundError(`partial ${listenDate}/${record.fingerprint}`, {
                    cause: error,
                  });
                throw error;
              }
            },
          };
        }
      },
      async delete(listenDate, fingerprint) {
        const folder = partialFolder(listenDate);
        const name = encodeTableName(fingerprint);
        const path = join(folder, `${name}${SUFFIX}`);
        await serialized(path, async () => {
          await unlinkQuietly(path);
          await unlinkQuietly(join(folder, `${name}${BLOB_SUFFIX}`));
        });
      },
    },

    days: {
      get: readPointer,
      async put(pointer, expectedVersion) {
        const what = `day state write of listen date '${pointer.listenDate}' shard ${pointer.shard}`;
        checkExpectedVersion(what, expectedVersion);
        checkPointer(what, pointer);
        const path = pointerPath(pointer.listenDate, pointer.shard);
        return serialized(path, async () => {
          const found = (await readPointer(pointer.listenDate, pointer.shard))?.version ?? 0;
          if (found !== expectedVersion) throw versionConflict(what, expectedVersion, found);
          const stored = asStored<DayStatePointer>({ ...pointer, version: expectedVersion + 1 });
          await writeJsonAtomically(writes, path, dayFolder(pointer.listenDate), stored, true);
          return stored;
        });
      },
      async *list() {
        const root = join(dir, "days");
        let folders: string[];
        try {
          folders = await readdir(root);
        } catch (error) {
          if ((error as { code?: unknown }).code === "ENOENT") return;
          throw error;
        }
        const pointers: DayStatePointer[] = [];
        for (const folder of folders) {
          for (const name of await recordNames(join(root, folder))) {
            const path = join(root, folder, name);
            const value = await readJson(path);
            if (value === undefined) continue;
            const date = (value as { listenDate?: unknown }).listenDate;
            pointers.push(checkPointerFile(path, value, String(date), Number(name.slice(0, -SUFFIX.length))));
          }
        }
        pointers.sort((a, b) =>
          a.listenDate < b.listenDate ? -1 : a.listenDate > b.listenDate ? 1 : a.shard - b.shard,
        );
        yield* pointers;
      },
    },
  };
}
