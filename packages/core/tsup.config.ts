import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    parallel: "src/parallel/index.ts",
    // The worker threads' script, found next to the parallel entry at run time.
    "parallel-worker": "src/parallel/worker.ts",
  },
  format: ["esm", "cjs"],
  dts: { entry: { index: "src/index.ts", parallel: "src/parallel/index.ts" } },
  sourcemap: true,
  clean: true,
  // import.meta.url (the worker's location) in the CommonJS build too.
  shims: true,
  target: "node20",
});
