/**
 * `@musicpipe/cli`: the `musicpipe` command. Import {@link main} to run it in-process.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/cli
 */

export { type CliIo, processIo } from "./io.js";
export { kpisToJson } from "./kpi-json.js";
export { main } from "./main.js";
