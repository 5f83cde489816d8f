// What the CLI tests share: running the command in this process, and listing files.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { main } from "../src/index.js";

/** Runs `musicpipe ...argv` in this process: its exit code and what it wrote. */
export async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** The paths of every file under `dir` (recursively), sorted; none when it does not exist. */
export async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) files.push(...(await walk(path)));
    else if (e.isFile()) files.push(path);
  }
  return files.sort();
}
