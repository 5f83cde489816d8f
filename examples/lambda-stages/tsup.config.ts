import { defineConfig } from "tsup";

// One self-contained ES module for the Lambda nodejs22.x and nodejs24.x runtimes: every dependency, the AWS
// SDK included, is bundled, so the deployment package is this file alone.
export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm"],
  outExtension: () => ({ js: ".mjs" }),
  platform: "node",
  target: "node22",
  noExternal: [/.*/],
  splitting: false,
  treeshake: true,
  minify: true,
  // Error names (`StageEventError`, SDK exceptions) stay readable in logs and notices.
  keepNames: true,
  sourcemap: true,
  clean: true,
  // Errors only: the build log is not what a newcomer needs to read.
  silent: true,
  dts: false,
  // Some bundled CommonJS modules call require() for Node built-ins: give them one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
