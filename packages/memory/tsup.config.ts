import { defineConfig } from "tsup";

export default defineConfig({
  // `conformance` is a subpath export (`@musicpipe/memory/conformance`): it imports vitest,
  // which the main entry must not pull in.
  // `local` (`@musicpipe/memory/local`) is the local-folder adapters without memfs.
  entry: { index: "src/index.ts", local: "src/local.ts", conformance: "src/conformance/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  external: ["vitest"],
});
