#!/usr/bin/env node
import { prestartWorkers } from "@musicpipe/core/parallel/prestart";
import { threadsToPrestart } from "./prestart.js";
import { guardProcessOutput, writeStderr } from "./stdio.js";

const exitStatus = guardProcessOutput();
const argv = process.argv.slice(2);
// Worker threads boot while the rest of the program loads.
prestartWorkers(threadsToPrestart(argv));

/** The last resort: `main` reports its own errors, so this is a bug; one line all the same. */
function fail(err: unknown): void {
  writeStderr(`musicpipe: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.MUSICPIPE_DEBUG && err instanceof Error && err.stack) writeStderr(`${err.stack}\n`);
  process.exit(1);
}
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

import("./main.js")
  .then(({ main }) => main(argv))
  .then((code) => {
    process.exitCode = exitStatus(code);
  }, fail);
