import { defineConfig, type Options } from "tsup";

// `silent`: errors only, the build log is not what a newcomer needs to read.
const common: Options = {
  dts: true,
  sourcemap: true,
  clean: false,
  silent: true,
  target: "node20",
  external: ["vitest"],
};

// The build script empties dist/ first: the two builds below write into it side by side.
export default defineConfig([
  // `local` (`@musicpipe/memory/local`) is the local-folder adapters without memfs.
  { ...common, entry: { index: "src/index.ts", local: "src/local.ts" }, format: ["esm", "cjs"] },
  // `conformance` (`@musicpipe/memory/conformance`) imports vitest, which the main entry must not
  // pull in, and which is an ES module only: so is this entry (`require` loads it as an ES
  // module, on Node.js 20.19 and later).
  { ...common, entry: { conformance: "src/conformance/index.ts" }, format: ["esm"] },
]);
