#!/usr/bin/env node
import { prestartWorkers } from "@musicpipe/core/parallel/prestart";
import { threadsToPrestart } from "./prestart.js";

const argv = process.argv.slice(2);
// Worker threads boot while the rest of the program loads.
prestartWorkers(threadsToPrestart(argv));
import("./main.js")
  .then(({ main }) => main(argv))
  .then((code) => {
    process.exitCode = code;
  });
