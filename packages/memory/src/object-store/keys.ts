import { ConfigurationError, InvalidKeyError, type ListOptions, type SkipReason } from "@musicpipe/core";

/**
 * File and folder names starting with this are musicpipe's own: temporary files of atomic
 * writes (`.musicpipe-tmp/`) and the local tables folder (`.musicpipe`). Keys cannot use them
 * and listings skip them.
 */
export const RESERVED_NAME_PREFIX = ".musicpipe";

const LONE_SURROGATE = /\p{Cs}/u;

function checkSegment(key: string, segment: string): void {
  if (segment === "") throw new InvalidKeyError(key, "it has an empty segment ('//' or a trailing '/')");
  if (segment === "." || segment === "..") throw new InvalidKeyError(key, `it has a '${segment}' segment`);
  if (segment.startsWith(RESERVED_NAME_PREFIX)) {
    throw new InvalidKeyError(
      key,
      `names starting with '${RESERVED_NAME_PREFIX}' are reserved for musicpipe`,
    );
  }
}

function checkCharacters(key: string): void {
  if (key.includes("\0")) throw new InvalidKeyError(key, "it contains a NUL character");
  if (key.includes("\\")) throw new InvalidKeyError(key, "it contains a backslash");
  if (key.startsWith("/")) throw new InvalidKeyError(key, "it starts with '/'");
  if (LONE_SURROGATE.test(key)) throw new InvalidKeyError(key, "it is not valid Unicode (lone surrogate)");
}

/**
 * Fails with `InvalidKeyError` unless `key` is a safe relative path: not empty, no leading `/`
 * or `\`, no backslash or NUL, no empty, `.` or `..` segment, no reserved name.
 */
export function checkKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) throw new InvalidKeyError(String(key), "it is empty");
  checkCharacters(key);
  for (const segment of key.split("/")) checkSegment(key, segment);
}

/**
 * Like {@link checkKey} for a list prefix: may be empty, and its last segment (after the last
 * `/`) is a partial name that may be empty.
 */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== "string") throw new InvalidKeyError(String(prefix), "a prefix must be a string");
  if (prefix.length === 0) return;
  checkCharacters(prefix);
  const segments = prefix.split("/");
  segments.pop();
  for (const segment of segments) checkSegment(prefix, segment);
}

/** Orders strings by their UTF-8 bytes (S3's key order). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** A validated byte range with `end` resolved against the object size. */
export function resolveRange(
  range: { readonly start: number; readonly end?: number | undefined } | undefined,
  size: number,
): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new ConfigurationError(`byte range start must be a non-negative integer, got ${start}`);
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new ConfigurationError(`byte range end must be an integer not below start ${start}, got ${end}`);
  }
  const clampedStart = Math.min(start, size);
  return { start: clampedStart, end: Math.max(clampedStart, Math.min(end ?? size, size)) };
}

/** Checks a byte range's numbers before any I/O, so a bad range fails at the call. */
export function checkRange(
  range: { readonly start: number; readonly end?: number | undefined } | undefined,
): void {
  resolveRange(range, Number.MAX_SAFE_INTEGER);
}

/** One entry of a folder, as {@link walkKeys} needs it. */
export interface FolderEntry {
  readonly name: string;
  readonly folder: boolean;
  /** Set for an entry that is no object (a symbolic link, a device): reported, not listed. */
  readonly skipped?: SkipReason | undefined;
}

/**
 * Yields the keys of every file under `prefix`, in ascending UTF-8 byte order, walking only
 * the folders that can hold such keys. `readFolder` gets a folder as a relative key path (""
 * for the root) and returns its files and subfolders, or `undefined` when it does not exist.
 *
 * Sorting each folder's entries by `name` for files and `name + "/"` for folders makes the
 * depth-first walk produce keys in global byte order, so nothing has to be collected.
 */
export async function* walkKeys(
  readFolder: (folder: string) => Promise<readonly FolderEntry[] | undefined>,
  prefix: string,
  onSkipped?: ListOptions["onSkipped"],
): AsyncGenerator<string> {
  const slash = prefix.lastIndexOf("/");
  yield* visit(readFolder, slash < 0 ? "" : prefix.slice(0, slash), prefix, onSkipped);
}

async function* visit(
  readFolder: (folder: string) => Promise<readonly FolderEntry[] | undefined>,
  folder: string,
  prefix: string,
  onSkipped: ListOptions["onSkipped"],
): AsyncGenerator<string> {
  const entries = await readFolder(folder);
  if (entries === undefined) return;
  const usable = entries.filter((entry) => {
    if (entry.name.startsWith(RESERVED_NAME_PREFIX)) return false;
    const reason = entry.skipped ?? (entry.name.includes("\\") ? "unsafe_name" : undefined);
    if (reason === undefined) return true;
    const key = folder === "" ? entry.name : `${folder}/${entry.name}`;
    if (key.startsWith(prefix)) onSkipped?.({ key, reason });
    return false;
  });
  const sorted = usable
    .map((entry) => {
      const key = folder === "" ? entry.name : `${folder}/${entry.name}`;
      return { key, folder: entry.folder, order: Buffer.from(entry.folder ? `${entry.name}/` : entry.name) };
    })
    .sort((a, b) => Buffer.compare(a.order, b.order));
  for (const entry of sorted) {
    if (entry.folder) {
      const asPrefix = `${entry.key}/`;
      if (asPrefix.startsWith(prefix) || prefix.startsWith(asPrefix))
        yield* visit(readFolder, entry.key, prefix, onSkipped);
    } else if (entry.key.startsWith(prefix)) {
      yield entry.key;
    }
  }
}

/** Whether a file-system error means "there is nothing at this path". */
export function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** The `code` of a file-system error, if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The error for a key that collides with a folder of other keys, or lies under an object. */
export function folderConflict(key: string, cause: unknown): InvalidKeyError {
  const error = new InvalidKeyError(
    key,
    "it is a folder of other objects, or one of its parent folders is an object (a file system cannot hold both)",
  );
  error.cause = cause;
  return error;
}
