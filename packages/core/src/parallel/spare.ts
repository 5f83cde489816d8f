import { Worker } from "node:worker_threads";

/** The worker script next to this module in the built package (absent when running from sources). */
const WORKER_SCRIPT = new URL("./parallel-worker.js", import.meta.url);

/** A started worker thread, and whether it came up (its first message is `ready`). */
export interface StartedWorker {
  readonly worker: Worker;
  readonly ready: Promise<boolean>;
}

// Kept on the global object: the CommonJS build bundles this module into each entry, and the
// threads a program started must reach the pool whichever entry started them.
const SPARES = Symbol.for("@musicpipe/core/parallel:spare-workers");
const global = globalThis as Record<symbol, StartedWorker[] | undefined>;
if (global[SPARES] === undefined) global[SPARES] = [];
const spares: StartedWorker[] = global[SPARES];

/** Whether worker threads can start here: only from the built package, where the script is. */
export function workersAvailable(): boolean {
  return /\.c?js$/.test(new URL(import.meta.url).pathname);
}

function startWorker(): StartedWorker {
  const worker = new Worker(WORKER_SCRIPT);
  const ready = new Promise<boolean>((resolve) => {
    worker.once("message", (m: { type?: unknown }) => resolve(m?.type === "ready"));
    worker.once("error", () => resolve(false));
    worker.once("exit", () => resolve(false));
  });
  return { worker, ready };
}

/**
 * Starts `count` worker threads now, for the next `takeWorker` calls: a program that will
 * compute with threads starts them before it loads the rest of its code, so that they boot
 * while it does. Spare threads do not keep the process alive.
 */
export function prestartWorkers(count: number): void {
  if (!workersAvailable()) return;
  for (let i = spares.length; i < count; i++) {
    try {
      const started = startWorker();
      started.worker.unref();
      // A spare that fails before it is taken is dropped; its error is not the program's.
      started.worker.on("error", () => {});
      spares.push(started);
    } catch {
      return;
    }
  }
}

/** A spare worker started by {@link prestartWorkers}, or a new one. */
export function takeWorker(): StartedWorker {
  const spare = spares.shift();
  if (spare === undefined) return startWorker();
  spare.worker.ref();
  return spare;
}
