import { defineConfig } from "tsup";

export default defineConfig({
  // Subpath entries keep Lambda bundles small: import only the adapter you use.
  entry: {
    index: "src/index.ts",
    s3: "src/s3/index.ts",
    dynamodb: "src/dynamodb/index.ts",
    airflow: "src/airflow/index.ts",
    lambda: "src/lambda/index.ts",
    sns: "src/sns/index.ts",
    metrics: "src/metrics/index.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  // Errors only: the build log is not what a newcomer needs to read.
  silent: true,
  target: "node20",
  // p-limit is ESM only: bundled (with its one dependency) so that the CommonJS build calls
  // it without relying on require(esm), and the ESM build resolves nothing more at run time.
  noExternal: ["p-limit"],
});
