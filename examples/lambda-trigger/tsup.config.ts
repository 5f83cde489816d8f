import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  // One self-contained ESM file for the Lambda nodejs22.x / nodejs24.x runtimes: upload dist/index.mjs alone.
  format: ["esm"],
  platform: "node",
  target: "node22",
  noExternal: [/.*/],
  splitting: false,
  sourcemap: false,
  dts: false,
  clean: true,
  // Errors only: the build log is not what a newcomer needs to read.
  silent: true,
  outExtension: () => ({ js: ".mjs" }),
  esbuildOptions(options) {
    // @musicpipe/aws declares "sideEffects": false, so esbuild drops the chunks of the adapters
    // the trigger does not use, and warns about each. That is the point; keep the build quiet.
    options.logOverride = { ...options.logOverride, "ignored-bare-import": "silent" };
  },
  // Bundled CommonJS dependencies call require() for Node built-ins; ESM has no require.
  banner: {
    js: 'import { createRequire as __musicpipeCreateRequire } from "node:module"; const require = __musicpipeCreateRequire(import.meta.url);',
  },
});
