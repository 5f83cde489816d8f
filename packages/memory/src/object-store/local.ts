import { constants, createWriteStream } from "node:fs";
import {
  copyFile,
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  unlink,
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
import { AtomicWrites, commitMakingFolder, unlinkQuietly, writeNewFile } from "../temp-files.js";
import {
  checkKey,
  checkPrefix,
  checkRange,
  errorCode,
  type FolderEntry,
  folderConflict,
  isMissing,
  resolveRange,
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
  readonly dev: bigint;
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
 * - Writes are atomic: bytes go to a file in `<root>/.musicpipe-tmp/` named by the writing
 *   process, which is then renamed over the target; a failed write leaves nothing behind, and
 *   the files of a killed process are removed by the next store's first write.
 * - The etag is `size-mtimeNs-inode` in hex (no hashing); it changes whenever the file is
 *   rewritten. Caveat: a rewrite in place by another program that keeps the size, within
 *   the file system's timestamp granularity, can keep the etag. A copy gets its own etag.
 * - Keys that could leave the root are refused with `InvalidKeyError`: empty, leading `/` or
 *   `\`, backslashes, NUL, empty, `.` or `..` segments. Names starting with `.musicpipe` are
 *   reserved (temporary files, the local tables folder) and skipped by `list`.
 * - `list` walks only the folders that can hold matching keys, and yields in UTF-8 byte order
 *   without collecting the listing. Symbolic links, other non-files and names with a backslash
 *   under the prefix are no objects: passed over, and reported to `onSkipped`.
 * - `delete` leaves emptied folders in place (an input folder does not vanish once processed).
 * - `move` links the file under its new name, then removes the old name: no bytes copied, an
 *   existing target is never replaced, and a move stopped in between is finished by the next.
 * - `delete` with `ifMatch` removes the file only while it is that version.
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
      if (
        code === "EISDIR" ||
        code === "ENOTEMPTY" ||
        code === "EEXIST" ||
        code === "EPERM" ||
        code === "ENOTDIR"
      ) {
        throw folderConflict(key, error);
      }
      throw error;
    }
    return etag;
  }

  const writes = new AtomicWrites(root);

  /** Runs `write(temp)` then commits the temp file to `key`; removes the temp file on failure. */
  async function writeAtomically(key: string, write: (temp: string) => Promise<void>): Promise<string> {
    const path = pathOf(key);
    return writes.write(path, write, (temp) =>
      commitMakingFolder(
        () => commit(key, temp, path),
        () => ensureFolder(key, dirname(path)),
      ),
    );
  }

  async function readFolder(folder: string): Promise<readonly FolderEntry[] | undefined> {
    try {
      const entries = await readdir(folder === "" ? root : pathOf(folder), { withFileTypes: true });
      return entries.map((entry) => ({
        name: entry.name,
        folder: entry.isDirectory(),
        ...(entry.isFile() || entry.isDirectory()
          ? {}
          : {
              skipped: entry.isSymbolicLink() ? ("symbolic_link" as const) : ("not_a_regular_file" as const),
            }),
      }));
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
          await writeNewFile(temp, body);
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
          // A clone where the file system can (no bytes copied), else a copy.
          await copyFile(source, temp, constants.COPYFILE_FICLONE);
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
      const target = pathOf(to);
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
      await ensureFolder(to, dirname(target));
      // A second name for the file, then the first removed: `link` never replaces an existing
      // target, and both names are the same file (inode, mtime: the same etag) in between.
      try {
        await link(source, target);
      } catch (error) {
        const code = errorCode(error);
        if (isMissing(error)) throw new ObjectNotFoundError(from, { cause: error });
        if (code === "EEXIST") {
          const existing = await statFile(target);
          // The same file under both names: a move stopped after its first step; finish it.
          if (existing === undefined || existing.ino !== before.ino || existing.dev !== before.dev)
            throw new ConditionFailedError(`move of '${from}' to '${to}' refused: '${to}' exists`, {
              file: from,
            });
        } else if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EMLINK") {
          // A file system without hard links: a rename, after checking that nothing is there.
          if ((await statFile(target)) !== undefined || (await stat(target).catch(() => undefined)))
            throw new ConditionFailedError(`move of '${from}' to '${to}' refused: '${to}' exists`, {
              file: from,
            });
          try {
            await rename(source, target);
          } catch (renameError) {
            if (isMissing(renameError)) throw new ObjectNotFoundError(from, { cause: renameError });
            throw renameError;
          }
          return { etag };
        } else if (code === "EISDIR" || code === "ENOTDIR") {
          throw folderConflict(to, error);
        } else {
          throw error;
        }
      }
      // The source may have been replaced since it was checked: the target then holds the
      // replaced file, not the new one, which stays where it is.
      const linked = await statFile(target);
      if (linked === undefined || (ifMatch !== undefined && etagOf(linked) !== ifMatch)) {
        const now = await statFile(source);
        if (linked !== undefined && now !== undefined && now.ino === linked.ino) await unlink(target);
        throw new ConditionFailedError(
          `move of '${from}' to '${to}' refused: the source changed while moving`,
          {
            file: from,
          },
        );
      }
      const now = await statFile(source);
      if (now !== undefined && now.ino === linked.ino && now.dev === linked.dev) await unlinkQuietly(source);
      return { etag: etagOf(linked) };
    },

    async delete(key, deleteOptions) {
      checkKey(key);
      const path = pathOf(key);
      const ifMatch = deleteOptions?.ifMatch;
      if (ifMatch !== undefined) {
        const found = await statFile(path);
        if (found === undefined) return;
        if (etagOf(found) !== ifMatch)
          throw new ConditionFailedError(
            `delete of '${key}' refused: its etag is '${etagOf(found)}', not '${ifMatch}'`,
            { file: key },
          );
      }
      try {
        await unlink(path);
      } catch (error) {
        if (isMissing(error) || errorCode(error) === "EISDIR") return;
        // macOS reports EPERM for a folder; a folder is no object.
        if (errorCode(error) === "EPERM" && (await stat(path).catch(() => undefined))?.isDirectory()) return;
        throw error;
      }
    },

    list(prefix, listOptions) {
      checkPrefix(prefix);
      return (async function* () {
        for await (const key of walkKeys(readFolder, prefix, listOptions?.onSkipped)) {
          const stats = await statFile(pathOf(key));
          if (stats !== undefined) yield infoOf(key, stats);
        }
      })();
    },
  };
}
