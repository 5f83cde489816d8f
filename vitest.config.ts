import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

const alias = {
  "@musicpipe/memory/conformance": fileURLToPath(
    new URL("./packages/memory/src/conformance/index.ts", import.meta.url),
  ),
  "@musicpipe/core": src("core"),
  "@musicpipe/memory": src("memory"),
  "@musicpipe/aws": src("aws"),
  "@musicpipe/cli": src("cli"),
};

export default defineConfig({
  test: {
    reporters: ["default", "./scripts/summary-reporter.ts"],
    projects: ["core", "memory", "aws", "cli"]
      .map((name) => ({
        resolve: { alias },
        test: {
          name,
          root: `./packages/${name}`,
          include: ["tests/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      }))
      .concat({
        resolve: { alias },
        test: {
          name: "examples",
          root: "./examples",
          include: ["*/tests/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      }),
  },
});
