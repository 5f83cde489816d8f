import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import {
  copyFile,
  type FileHandle,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  ConditionFailedError,
  ConfigurationError,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
} from "@musicpipe/core";
import {
  checkKey,
  checkPrefix,
  checkRange,
  errorCode,
  type FolderEntry,
  folderConflict,
  isMissing,
  resolveRange,
  TEMP_NAME_PREFIX,
  walkKeys,
} from "./keys.js";

/** Bytes per chunk read by {@link createLocalObjectStore}'s `get`. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** Options of {@link createLocalObjectStore}. */
export interface LocalObjectStoreOptions {
  /**
   * The folder holding the objects: key `a/b.csv` is the file `<root>/a/b.csv`. Created on
   * the first write when missing.
   */
  readonly root: string;
}

interface FileStats {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly mtimeMs: bigint;
  readonly ino: bigint;
  isFile(): boolean;
}

/** Size, nanosecond modification time and inode: changes on every rewrite, needs no hashing. */
function etagOf(stats: FileStats): string {
  return `${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}-${stats.ino.toString(16)}`;
}

function infoOf(key: string, stats: FileStats): ObjectInfo {
  return {
    key,
    size: Number(stats.size),
    etag: etagOf(stats),
    lastModified: new Date(Number(stats.mtimeMs)),
  };
}

/** Stats of the regular file at `path`, or `undefined` when there is none. */
async function statFile(path: string): Promise<FileStats | undefined> {
  try {
    const stats = await stat(path, { bigint: true });
    return stats.isFile() ? stats : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * An {@link ObjectStore} over a local folder: key `a/b.csv` is the file `<root>/a/b.csv`, so
 * files dropped into the folder by hand are objects too.
 *
 * - Writes are atomic: bytes go to a `.musicpipe-tmp-*` file in the target folder, which is
 *   then renamed over the target; a failed write leaves nothing behind.
 * - The etag is `size-mtimeNs-inode` in hex (no hashing); it changes whenever the file is
 *   rewritten. Caveat: a rewrite in place by another program that keeps the size, within
 *   the file system's timestamp granularity, can keep the etag. A copy gets its own etag.
 * - Keys that could leave the root are refused with `InvalidKeyError`: empty, leading `/` or
 *   `\`, backslashes, NUL, empty, `.` or `..` segments. Names starting with `.musicpipe` are
 *   reserved (temporary files, the local tables folder) and skipped by `list`.
 * - `list` walks only the folders that can hold matching keys, skips folders, symbolic links
 *   and other non-files, and yields in UTF-8 byte order without collecting the listing.
 * - `delete` leaves emptied folders in place (an input folder does not vanish once processed).
 * - `move` is a rename: one step, no bytes copied (both keys are under the same root).
 * - A key cannot be both an object and a folder of other objects (`a` and `a/b`).
 * - `contentType` is ignored.
 *
 * @example
 * const store = createLocalObjectStore({ root: "./bucket" });
 * await store.put("data/raw/streams/s1.csv", "user_id,track_id,listen_time\n");
 * console.log(await store.head("data/raw/streams/s1.csv")); // { key, size: 31, etag, lastModified }
 */
export function createLocalObjectStore(options: LocalObjectStoreOptions): ObjectStore {
  if (typeof options?.root !== "string" || options.root.length === 0) {
    throw new ConfigurationError("createLocalObjectStore: 'root' must be a non-empty folder path");
  }
  const root = resolve(options.root);
  const pathOf = (key: string): string => join(root, ...key.split("/"));

  async function ensureFolder(key: string, folder: string): Promise<void> {
    try {
      await mkdir(folder, { recursive: true });
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOTDIR" || code === "EEXIST") throw folderConflict(key, error);
      throw error;
    }
  }

  /** Renames a finished temporary file over the key's file; returns the new etag. */
  async function commit(key: string, temp: string, path: string): Promise<string> {
    // rename keeps size, mtime and inode, so the temp file's stats are the object's.
    const etag = etagOf(await stat(temp, { bigint: true }));
    try {
      await rename(temp, path);
    } catch (error) {
      const code = errorCode(error);
      if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST" || code === "EPERM") {
        throw folderConflict(key, error);
      }
      throw error;
    }
    return etag;
  }

  /** Runs `write(temp)` then commits the temp file to `key`; removes the temp file on failure. */
  async function writeAtomically(key: string, write: (temp: string) => Promise<void>): Promise<string> {
    const path = pathOf(key);
    const folder = dirname(path);
    await ensureFolder(key, folder);
    const temp = join(folder, `${TEMP_NAME_PREFIX}${randomUUID()}`);
    try {
      await write(temp);
      return await commit(key, temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async function readFolder(folder: string): Promise<readonly FolderEntry[] | undefined> {
    try {
      const entries = await readdir(folder === "" ? root : pathOf(folder), { withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile() || entry.isDirectory())
        .map((entry) => ({ name: entry.name, folder: entry.isDirectory() }));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  return {
    get(key, getOptions) {
      checkKey(key);
      const range = getOptions?.range;
      checkRange(range);
      return (async function* () {
        let handle: FileHandle;
        try {
          handle = await open(pathOf(key), "r");
        } catch (error) {
          if (isMissing(error) || errorCode(error) === "EISDIR")
            throw new ObjectNotFoundError(key, { cause: error });
          throw error;
        }
        let stream: AsyncIterable<Buffer> | undefined;
        try {
          const stats = await handle.stat();
          if (!stats.isFile()) throw new ObjectNotFoundError(key);
          const { start, end } = resolveRange(range, stats.size);
          if (end <= start) return;
          // Node's `end` is inclusive; the stream owns and closes the handle from here on.
          stream = handle.createReadStream({ start, end: end - 1, highWaterMark: READ_CHUNK_BYTES });
        } finally {
          if (stream === undefined) await handle.close();
        }
        yield* stream;
      })();
    },

    async head(key) {
      checkKey(key);
      const stats = await statFile(pathOf(key));
      return stats === undefined ? undefined : infoOf(key, stats);
    },

    async put(key: string, body: ObjectBody) {
      checkKey(key);
      const etag = await writeAtomically(key, async (temp) => {
        if (typeof body === "string" || body instanceof Uint8Array) {
          await writeFile(temp, body, { flag: "wx" });
        } else {
          await pipeline(body, createWriteStream(temp, { flags: "wx" }));
        }
      });
      return { etag };
    },

    async copy(from, to, copyOptions) {
      checkKey(from);
      checkKey(to);
      const source = pathOf(from);
      const before = await statFile(source);
      if (before === undefined) throw new ObjectNotFoundError(from);
      const ifMatch = copyOptions?.ifMatch;
      const etag = etagOf(before);
      if (ifMatch !== undefined && etag !== ifMatch) {
        throw new ConditionFailedError(
          `copy of '${from}' to '${to}' refused: the source's etag is '${etag}', not '${ifMatch}'`,
          { file: from },
        );
      }
      const copied = await writeAtomically(to, async (temp) => {
        try {
          await copyFile(source, temp);
        } catch (error) {
          if (isMissing(error)) throw new ObjectNotFoundError(from, { cause: error });
          throw error;
        }
        // The etag was checked before copying: make sure the bytes copied are that version.
        const after = await statFile(source);
        if (ifMatch !== undefined && (after === undefined || etagOf(after) !== ifMatch)) {
          throw new ConditionFailedError(
            `copy of '${from}' to '${to}' refused: the source changed while copying`,
            {
              file: from,
            },
          );
        }
      });
      return { etag: copied };
    },

    async move(from, to, moveOptions) {
      checkKey(from);
      checkKey(to);
      const source = pathOf(from);
      const before = await statFile(source);
      if (before === undefined) throw new ObjectNotFoundError(from);
      const ifMatch = moveOptions?.ifMatch;
      const etag = etagOf(before);
      if (ifMatch !== undefined && etag !== ifMatch) {
        throw new ConditionFailedError(
          `move of '${from}' to '${to}' refused: the source's etag is '${etag}', not '${ifMatch}'`,
          { file: from },
        );
      }
      const target = pathOf(to);
      await ensureFolder(to, dirname(target));
      try {
        // rename keeps size, mtime and inode: the moved object keeps its etag.
        await rename(source, target);
      } catch (error) {
        const code = errorCode(error);
        if (isMissing(error)) throw new ObjectNotFoundError(from, { cause: error });
        if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST" || code === "EPERM")
          throw folderConflict(to, error);
        throw error;
      }
      return { etag };
    },

    async delete(key) {
      checkKey(key);
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (error) {
        if (isMissing(error) || errorCode(error) === "EISDIR") return;
        // macOS reports EPERM for a folder; a folder is no object.
        if (errorCode(error) === "EPERM" && (await stat(path).catch(() => undefined))?.isDirectory()) return;
        throw error;
      }
    },

    list(prefix) {
      checkPrefix(prefix);
      return (async function* () {
        for await (const key of walkKeys(readFolder, prefix)) {
          const stats = await statFile(pathOf(key));
          if (stats !== undefined) yield infoOf(key, stats);
        }
      })();
    },
  };
}
