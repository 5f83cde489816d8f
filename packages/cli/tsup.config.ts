import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", bin: "src/bin.ts", "kpis-worker": "src/parallel/worker.ts" },
  format: ["esm", "cjs"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  // import.meta.url (the worker's location) in the CommonJS build too.
  shims: true,
  target: "node20",
});
