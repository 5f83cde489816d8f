import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    parallel: "src/parallel/index.ts",
    // Tiny on purpose: a program imports it first (see its module comment).
    "parallel-prestart": "src/parallel/prestart.ts",
    // The worker threads' script, found next to the parallel entry at run time.
    "parallel-worker": "src/parallel/worker.ts",
  },
  format: ["esm", "cjs"],
  dts: {
    entry: {
      index: "src/index.ts",
      parallel: "src/parallel/index.ts",
      "parallel-prestart": "src/parallel/prestart.ts",
    },
  },
  sourcemap: true,
  clean: true,
  // Errors only: the build log is not what a newcomer needs to read.
  silent: true,
  // import.meta.url (the worker's location) in the CommonJS build too.
  shims: true,
  target: "node20",
  // p-limit is ESM only: bundled (with its one dependency) so that the CommonJS build calls
  // it without relying on require(esm), and the ESM build resolves nothing more at run time.
  noExternal: ["p-limit"],
});
