import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createPipelineContext, type PipelineConfig, type PipelineContext } from "@musicpipe/core";
import {
  createLocalObjectStore,
  createLocalTables,
  isProcessAlive,
  TEMP_FOLDER,
} from "@musicpipe/memory/local";
import { UsageError } from "./args.js";

/** The state folder under a local root. */
export const STATE_DIR = ".musicpipe";

/**
 * The pipeline over a local folder: objects are the files under `root`; tables are JSON files
 * under `root/.musicpipe/`, and the state blobs (day states, compiled catalogs) are files
 * there too.
 */
export function localPipeline(root: string, config: Partial<PipelineConfig> = {}): PipelineContext {
  const tables = createLocalTables({ dir: join(root, STATE_DIR) });
  return createPipelineContext({
    objects: createLocalObjectStore({ root }),
    stateObjects: createLocalObjectStore({ root: join(root, STATE_DIR) }),
    ...tables,
    ...config,
  });
}

/** What a lock file holds: the holder's pid and a token of its own. */
function lockHolder(text: string): { pid: number; token: string } | undefined {
  const [pid, token] = text.trim().split(" ");
  const n = Number(pid);
  return Number.isInteger(n) && n > 0 && token !== undefined ? { pid: n, token } : undefined;
}

/**
 * Holds `root/.musicpipe/lock` while `work` runs, so two runs do not share a folder. The lock
 * is created with its content in one step (written to a file of its own, then linked to the
 * lock's name, which fails when a lock exists). A lock whose holder no longer exists is taken
 * over: moved aside under a name of this run's own (so one taker wins), checked to be the very
 * lock found stale, and removed. The stages do not rely on the lock: they are safe when runs
 * overlap (conditional record writes, moves that never replace a file), as on AWS.
 */
export async function withRootLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  const dir = join(root, STATE_DIR);
  const path = join(dir, "lock");
  await mkdir(dir, { recursive: true });
  const token = randomUUID();
  // Named like every temporary file under the root, so one left by a killed run is swept.
  await mkdir(join(dir, TEMP_FOLDER), { recursive: true });
  const mine = join(dir, TEMP_FOLDER, `${process.pid}-lock-${token}`);
  await writeFile(mine, `${process.pid} ${token}\n`, { flag: "wx" });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (attempt >= 20)
          throw new UsageError(`could not take the lock of ${resolve(root)}: other runs keep taking it`, {
            pointsToHelp: false,
          });
        const text = await readFile(path, "utf8").catch(() => undefined);
        if (text === undefined) continue; // released meanwhile
        const holder = lockHolder(text);
        if (holder !== undefined && isProcessAlive(holder.pid)) {
          throw new UsageError(
            `another musicpipe run (pid ${holder.pid}) is using ${resolve(root)}; wait for it to finish`,
            { pointsToHelp: false },
          );
        }
        // A stale lock (or one of an older version, holding a pid only): taken over.
        const aside = join(dir, TEMP_FOLDER, `${process.pid}-stale-${token}`);
        if (
          await rename(path, aside).then(
            () => true,
            () => false,
          )
        ) {
          const moved = await readFile(aside, "utf8").catch(() => "");
          if (moved !== text) {
            // Another run took the lock over first and holds it now: give it back, and yield.
            await link(aside, path).catch(() => undefined);
            await rm(aside, { force: true });
            const now = lockHolder(moved);
            throw new UsageError(
              `another musicpipe run (pid ${now?.pid ?? "unknown"}) is using ${resolve(root)}; wait for it to finish`,
              { pointsToHelp: false },
            );
          }
          await rm(aside, { force: true });
        }
      }
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await work();
  } finally {
    const held = lockHolder(await readFile(path, "utf8").catch(() => ""));
    if (held?.token === token) await rm(path, { force: true });
  }
}

/** Checks that `root` has the raw layout, for a clear usage error instead of an empty run. */
export async function requireRoot(root: string, prefix: string): Promise<void> {
  const info = await stat(join(root, prefix)).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new UsageError(`'${join(root, prefix)}' is not a folder: --root must hold ${prefix}`);
  }
}
