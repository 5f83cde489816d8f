import { createHash } from "node:crypto";
import { posix } from "node:path";
import {
  ConditionFailedError,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
} from "@musicpipe/core";
import { Volume } from "memfs";
import { bodyToBuffer } from "./body.js";
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

/** Size of the chunks {@link createMemoryObjectStore}'s `get` yields. */
const CHUNK_BYTES = 64 * 1024;

/** Options of {@link createMemoryObjectStore}. */
export interface MemoryObjectStoreOptions {
  /**
   * The memfs volume to keep objects in; key `a/b.csv` is the file `/a/b.csv`. Pass one to
   * seed objects with `volume.fromJSON(...)` or to inspect what was written.
   * @default a new empty `Volume`
   */
  readonly volume?: Volume | undefined;
}

function md5(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/**
 * An {@link ObjectStore} in memory, over a memfs volume: for tests and embedding.
 *
 * The etag is the hex MD5 of the content (like S3 for single-part uploads), computed when
 * asked, so it always matches the bytes, also for files written to the volume directly; a
 * copy has its source's etag. Keys are checked like {@link createLocalObjectStore}'s (no
 * `..`, `.` or empty segments, no leading `/`, no backslash or NUL, nothing starting with
 * `.musicpipe`), and a key cannot be both an object and a folder of other objects (`a` and
 * `a/b`): that put fails with `InvalidKeyError`. Every write happens in one synchronous step,
 * so readers never see a partly written object. `contentType` is ignored.
 *
 * @example
 * const store = createMemoryObjectStore();
 * await store.put("data/raw/streams/s1.csv", "user_id,track_id,listen_time\n");
 * for await (const info of store.list("data/raw/")) console.log(info.key, info.size);
 */
export function createMemoryObjectStore(options: MemoryObjectStoreOptions = {}): ObjectStore {
  const volume = options.volume ?? new Volume();
  const pathOf = (key: string): string => `/${key}`;

  /** The object's bytes, or `undefined` when there is no file at the key. */
  function read(key: string): Buffer | undefined {
    try {
      return volume.readFileSync(pathOf(key)) as Buffer;
    } catch (error) {
      if (isMissing(error) || errorCode(error) === "EISDIR") return undefined;
      throw error;
    }
  }

  function statOf(path: string) {
    try {
      return volume.statSync(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  function info(key: string): ObjectInfo | undefined {
    const stats = statOf(pathOf(key));
    if (stats === undefined || !stats.isFile()) return undefined;
    const data = read(key);
    if (data === undefined) return undefined;
    return { key, size: data.byteLength, etag: md5(data), lastModified: new Date(Number(stats.mtimeMs)) };
  }

  function write(key: string, data: Uint8Array): string {
    const path = pathOf(key);
    try {
      volume.mkdirSync(posix.dirname(path), { recursive: true });
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOTDIR" || code === "EEXIST") throw folderConflict(key, error);
      throw error;
    }
    // memfs would let a file replace a folder; refuse that like a real file system does.
    if (statOf(path)?.isDirectory()) {
      throw folderConflict(key, undefined);
    }
    try {
      volume.writeFileSync(path, data);
    } catch (error) {
      if (errorCode(error) === "ENOTDIR" || errorCode(error) === "EISDIR") throw folderConflict(key, error);
      throw error;
    }
    return md5(data);
  }

  async function readFolder(folder: string): Promise<readonly FolderEntry[] | undefined> {
    try {
      const entries = volume.readdirSync(`/${folder}`, { withFileTypes: true }) as {
        name: string | Buffer;
        isDirectory(): boolean;
        isFile(): boolean;
      }[];
      return entries
        .filter((entry) => entry.isDirectory() || entry.isFile())
        .map((entry) => ({ name: String(entry.name), folder: entry.isDirectory() }));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  const store: ObjectStore = {
    get(key, getOptions) {
      checkKey(key);
      const range = getOptions?.range;
      checkRange(range);
      return (async function* () {
        const data = read(key);
        if (data === undefined) throw new ObjectNotFoundError(key);
        const { start, end } = resolveRange(range, data.byteLength);
        const bytes = data.subarray(start, end);
        for (let offset = 0; offset < bytes.byteLength; offset += CHUNK_BYTES) {
          // A copy, so a caller changing a chunk cannot change the stored object.
          yield Uint8Array.prototype.slice.call(bytes, offset, offset + CHUNK_BYTES);
        }
      })();
    },

    async head(key) {
      checkKey(key);
      return info(key);
    },

    async put(key: string, body: ObjectBody) {
      checkKey(key);
      const data = await bodyToBuffer(body);
      return { etag: write(key, data) };
    },

    async copy(from, to, copyOptions) {
      checkKey(from);
      checkKey(to);
      const data = read(from);
      if (data === undefined) throw new ObjectNotFoundError(from);
      const ifMatch = copyOptions?.ifMatch;
      if (ifMatch !== undefined) {
        const etag = md5(data);
        if (etag !== ifMatch) {
          throw new ConditionFailedError(
            `copy of '${from}' to '${to}' refused: the source's etag is '${etag}', not '${ifMatch}'`,
            { file: from },
          );
        }
      }
      return { etag: write(to, data) };
    },

    async move(from, to, moveOptions) {
      checkKey(from);
      checkKey(to);
      const existing = read(to);
      if (existing !== undefined && from !== to) {
        // Never replaced; the same bytes there already is a move stopped half-way.
        const data = read(from);
        if (data === undefined) throw new ObjectNotFoundError(from);
        if (!Buffer.from(existing).equals(Buffer.from(data)))
          throw new ConditionFailedError(`move of '${from}' to '${to}' refused: '${to}' exists`, {
            file: from,
          });
      }
      const { etag } =
        existing !== undefined ? { etag: md5(existing) } : await store.copy(from, to, moveOptions);
      if (from !== to) await store.delete(from, moveOptions);
      return { etag };
    },

    async delete(key, deleteOptions) {
      checkKey(key);
      const ifMatch = deleteOptions?.ifMatch;
      if (ifMatch !== undefined) {
        const data = read(key);
        if (data === undefined) return;
        if (md5(data) !== ifMatch)
          throw new ConditionFailedError(
            `delete of '${key}' refused: its etag is '${md5(data)}', not '${ifMatch}'`,
            { file: key },
          );
      }
      try {
        volume.unlinkSync(pathOf(key));
      } catch (error) {
        const code = errorCode(error);
        // A folder (EPERM in memfs, EISDIR elsewhere) is no object either.
        if (isMissing(error) || code === "EISDIR" || code === "EPERM") return;
        throw error;
      }
    },

    list(prefix, listOptions) {
      checkPrefix(prefix);
      return (async function* () {
        for await (const key of walkKeys(readFolder, prefix, listOptions?.onSkipped)) {
          const found = info(key);
          if (found !== undefined) yield found;
        }
      })();
    },
  };
  return store;
}
