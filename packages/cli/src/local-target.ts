import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createPipelineContext, type PipelineConfig, type PipelineContext } from "@musicpipe/core";
import { createLocalObjectStore, createLocalTables } from "@musicpipe/memory/local";
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Holds `root/.musicpipe/lock` while `work` runs, so two runs never share a folder. A lock
 * left by a process that no longer exists is taken over.
 */
export async function withRootLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  const path = join(root, STATE_DIR, "lock");
  await mkdir(join(root, STATE_DIR), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
      const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new UsageError(
          `another musicpipe run (pid ${holder}) is using ${resolve(root)}; wait for it to finish`,
        );
      }
      await rm(path, { force: true });
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}

/** Checks that `root` has the raw layout, for a clear usage error instead of an empty run. */
export async function requireRoot(root: string, prefix: string): Promise<void> {
  const info = await stat(join(root, prefix)).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new UsageError(`'${join(root, prefix)}' is not a folder: --root must hold ${prefix}`);
  }
}
