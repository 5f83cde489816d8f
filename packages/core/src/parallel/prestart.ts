/**
 * `@musicpipe/core/parallel/prestart`: start the worker threads of `@musicpipe/core/parallel`
 * before the rest of a program loads. It imports nothing else, so a command-line entry can call
 * it first and load its own code while the threads boot.
 *
 * ```ts
 * import { prestartWorkers } from "@musicpipe/core/parallel/prestart";
 * prestartWorkers(2);
 * const { main } = await import("./main.js");
 * ```
 *
 * @packageDocumentation
 *
 * @module @musicpipe/core/parallel/prestart
 */
export { prestartWorkers } from "./spare.js";
