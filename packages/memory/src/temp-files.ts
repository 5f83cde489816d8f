import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * The folder, under a local store's root, that holds the files of writes in progress: each is
 * written there, then renamed over its target (one step). Its name starts with `.musicpipe`,
 * so listings skip it and keys cannot name it.
 */
export const TEMP_FOLDER = ".musicpipe-tmp";

/** A temporary file of no living process older than this is removed (one of an older version, without a pid). */
const UNNAMED_TEMP_AGE_MS = 60 * 60 * 1000;

/**
 * Removes a file; one already gone is no error. One `unlink`, where `rm(path, { force: true })`
 * looks at the path twice before removing it.
 */
export async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
  }
}

/**
 * Writes `content` to a file that must not exist yet (`wx`), in one `write` where the system
 * takes it whole. `writeFile` writes a buffer in pieces of 512 KiB, one thread-pool round trip
 * each: a compiled catalog of tens of megabytes took dozens of them.
 */
export async function writeNewFile(path: string, content: string | Uint8Array): Promise<void> {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  const handle = await open(path, "wx");
  try {
    let at = 0;
    // A regular file takes a write whole up to the system's limit (about 2 GiB on Linux).
    while (at < bytes.length) at += (await handle.write(bytes, at, bytes.length - at, at)).bytesWritten;
  } finally {
    await handle.close();
  }
}

/** Whether a process with this pid exists (on this machine; `EPERM`: it does, owned by another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files under `<base>/.musicpipe-tmp/` that no living process is
 * writing: a file is named `<pid>-<uuid>` by the process writing it, so the files of a killed
 * run are found by their pid, with no age to guess. Returns how many were removed.
 */
export async function sweepTemporaryFiles(base: string): Promise<number> {
  const folder = join(base, TEMP_FOLDER);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(name.slice(0, name.indexOf("-")));
    const orphan =
      Number.isInteger(pid) && pid > 0
        ? pid !== process.pid && !isProcessAlive(pid)
        : Date.now() - ((await stat(join(folder, name)).catch(() => undefined))?.mtimeMs ?? Date.now()) >
          UNNAMED_TEMP_AGE_MS;
    if (orphan) {
      await rm(join(folder, name), { force: true, recursive: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Runs `commit` (a rename into a target's folder); when it fails with `ENOENT` (the folder is
 * not there), runs `makeFolder` and commits again. A folder is made on the first write into
 * it instead of being checked before every write.
 */
export async function commitMakingFolder<T>(
  commit: () => Promise<T>,
  makeFolder: () => Promise<void>,
): Promise<T> {
  try {
    return await commit();
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
    await makeFolder();
    return commit();
  }
}

/**
 * Atomic writes under one local folder: {@link write} writes a file in `<base>/.musicpipe-tmp/`
 * and renames it over the target. The first write of each instance first sweeps the files
 * killed runs left there (see {@link sweepTemporaryFiles}). A target on another file system
 * than `base` gets its temporary file beside it instead (a rename cannot cross file systems).
 */
export class AtomicWrites {
  readonly #base: string;
  #ready: Promise<void> | undefined;

  constructor(base: string) {
    this.#base = base;
  }

  /**
   * Runs `fill(temp)` to write a temporary file, then renames it to `target`; `commit` does
   * the rename (and may check things first). The temporary file is removed on any failure.
   */
  async write<T>(
    target: string,
    fill: (temp: string) => Promise<void>,
    commit: (temp: string, target: string) => Promise<T>,
  ): Promise<T> {
    this.#ready ??= (async () => {
      await mkdir(join(this.#base, TEMP_FOLDER), { recursive: true });
      await sweepTemporaryFiles(this.#base);
    })().catch((error: unknown) => {
      // A failed preparation (a full disk, a folder not yet writable) is tried again by the
      // next write instead of failing every write of this instance.
      this.#ready = undefined;
      throw error;
    });
    await this.#ready;
    const name = `${process.pid}-${randomUUID()}`;
    let temp = join(this.#base, TEMP_FOLDER, name);
    try {
      await fill(temp);
      try {
        return await commit(temp, target);
      } catch (error) {
        if ((error as { code?: unknown }).code !== "EXDEV") throw error;
        await rm(temp, { force: true });
        temp = join(dirname(target), `${TEMP_FOLDER}-${name}`);
        await fill(temp);
        return await commit(temp, target);
      }
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
