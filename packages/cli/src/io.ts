import { createReadStream } from "node:fs";
import { readdir, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { InputFile } from "@musicpipe/core";
import { UsageError } from "./args.js";

/** Where a command writes; injected so tests can capture it. */
export interface CliIo {
  /** Results and summaries. */
  readonly stdout: (text: string) => void;
  /** Progress and diagnostics. */
  readonly stderr: (text: string) => void;
}

/** The process's own streams. */
export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

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

/** Writes a file atomically: to a temporary name beside it, then renamed over it. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}

/** `1234567` -> `1,234,567`. */
export function n(value: number): string {
  return value.toLocaleString("en-US");
}
