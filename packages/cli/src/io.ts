import { constants, createReadStream } from "node:fs";
import { access, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { InputFile } from "@musicpipe/core";
import { UsageError } from "./args.js";
import { writeStderr, writeStdout } from "./stdio.js";

/** Where a command writes; injected so tests can capture it. */
export interface CliIo {
  /** Results and summaries. */
  readonly stdout: (text: string) => void;
  /** Progress and diagnostics. */
  readonly stderr: (text: string) => void;
}

/** The process's own streams (the text is dropped once a stream was closed, see `bin.ts`). */
export const processIo: CliIo = { stdout: writeStdout, stderr: writeStderr };

const CSV_FILE = /\.csv(\.gz)?$/i;

/**
 * Turns command-line paths into input files: a file stands for itself, a folder for the
 * `.csv` and `.csv.gz` files directly in it. A path that does not exist is a usage error.
 */
export async function inputFiles(paths: readonly string[]): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) throw new UsageError(`cannot read '${path}': no such file or folder`);
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => CSV_FILE.test(n)).sort();
      for (const n of names) {
        const file = join(path, n);
        files.push(localFile(file, (await stat(file)).size));
      }
    } else {
      files.push(localFile(path, info.size));
    }
  }
  return files;
}

/** An input file on the local disk, streamed in 1 MiB chunks (from any byte on, given its size). */
export function localFile(path: string, size?: number): InputFile {
  return {
    name: path,
    open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
    ...(size === undefined
      ? {}
      : { size, openFrom: (start: number) => createReadStream(path, { highWaterMark: 1024 * 1024, start }) }),
  };
}

/**
 * Writes a file atomically: to a temporary name beside it, then renamed over it. The temporary
 * file is removed when either step fails. An existing device or named pipe (`/dev/stdout`) is
 * written to, not replaced.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info !== undefined && !info.isFile() && !info.isDirectory()) {
    await writeFile(path, content);
    return;
  }
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

async function writableFolder(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
}

/**
 * Checks, before any work, that `path` (the value of option `flag`) can be written by
 * {@link writeFileAtomic}: an existing file, device or pipe, or a new name, in a folder that
 * exists and can be written. Anything else is a usage error.
 */
export async function checkOutputFile(path: string, flag = "--out"): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new UsageError(`option '${flag}' must name a file, and '${path}' is a folder`);
  }
  if (info !== undefined && !info.isFile()) return;
  const dir = dirname(path);
  const parent = await stat(dir).catch(() => undefined);
  if (parent === undefined) throw new UsageError(`option '${flag}': folder '${dir}' does not exist`);
  if (!parent.isDirectory()) throw new UsageError(`option '${flag}': '${dir}' is not a folder`);
  if (!(await writableFolder(dir))) throw new UsageError(`option '${flag}': cannot write in '${dir}'`);
}

/**
 * Checks, before any work, that `path` (the value of option `flag`) can be a folder the command
 * writes under: an existing folder, or a new one under the nearest existing folder.
 */
export async function checkOutputFolder(path: string, flag = "--out"): Promise<void> {
  for (let at = path; ; ) {
    const info = await stat(at).catch(() => undefined);
    if (info !== undefined) {
      if (info.isDirectory()) {
        if (!(await writableFolder(at))) throw new UsageError(`option '${flag}': cannot write in '${at}'`);
        return;
      }
      throw new UsageError(
        at === path
          ? `option '${flag}' must name a folder, and '${path}' is a file`
          : `option '${flag}': '${at}' is a file, not a folder`,
      );
    }
    const up = dirname(at);
    if (up === at) return;
    at = up;
  }
}

/**
 * `1234567` -> `1,234,567` (an integer; what `toLocaleString("en-US")` gives, without the
 * first call's locale set-up, which costs tens of milliseconds at the end of every command).
 */
export function n(value: number): string {
  if (!Number.isSafeInteger(value)) return value.toLocaleString("en-US");
  const digits = String(Math.abs(value));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return value < 0 ? `-${out}` : out;
}
