import { readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

/** The sizes the pipeline starts threads at (see `runPending`): a streams file, the catalogs. */
const STREAMS_FILE_BYTES = 8 * 1024 * 1024;
const CATALOG_BYTES = 32 * 1024 * 1024;

/** The value of `--name V` or `--name=V`, if given. */
function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === `--${name}`) return argv[i + 1];
    if (word.startsWith(`--${name}=`)) return word.slice(name.length + 3);
  }
  return undefined;
}

/** Sizes of the files in a folder and its subfolders (none when it cannot be read). */
function sizesUnder(dir: string): number[] {
  const sizes: number[] = [];
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) sizes.push(statSync(join(entry.parentPath, entry.name)).size);
    }
  } catch {
    // Not there (yet): the command reports it.
  }
  return sizes;
}

/** The most worker threads `--workers` may ask for: more only adds start-up and memory. */
export const MAX_WORKERS = 64;

/**
 * How many worker threads the command line will want, judged from its words and the sizes of
 * its local input files before any of the program loads (0: none). `kpis` scans with threads
 * whenever it has more than one; `run --root DIR` when a streams file or the catalogs are big
 * enough for the stages to use them. A wrong guess costs only the threads' start-up.
 */
export function threadsToPrestart(argv: readonly string[]): number {
  const [command, ...rest] = argv;
  if (command !== "kpis" && command !== "run") return 0;
  if (rest.includes("--help") || rest.includes("-h")) return 0;
  const asked = flag(rest, "workers");
  const threads = asked === undefined ? availableParallelism() : Number(asked);
  if (!Number.isInteger(threads) || threads < 2 || threads > MAX_WORKERS) return 0;
  if (command === "kpis") return threads;
  const root = flag(rest, "root");
  if (root === undefined || flag(rest, "target") === "aws") return 0;
  const raw = join(root, "data", "raw");
  const streams = sizesUnder(join(raw, "streams"));
  const catalogs = [...sizesUnder(join(raw, "songs")), ...sizesUnder(join(raw, "users"))];
  const big =
    streams.some((size) => size >= STREAMS_FILE_BYTES) ||
    catalogs.reduce((sum, size) => sum + size, 0) >= CATALOG_BYTES;
  return big ? threads : 0;
}
