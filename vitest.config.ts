import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const path = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests import the packages' sources, so they need no build.
const alias = {
  "@musicpipe/aws/s3": path("./packages/aws/src/s3/index.ts"),
  "@musicpipe/aws/dynamodb": path("./packages/aws/src/dynamodb/index.ts"),
  "@musicpipe/aws/airflow": path("./packages/aws/src/airflow/index.ts"),
  "@musicpipe/aws/lambda": path("./packages/aws/src/lambda/index.ts"),
  "@musicpipe/aws/sns": path("./packages/aws/src/sns/index.ts"),
  "@musicpipe/aws/metrics": path("./packages/aws/src/metrics/index.ts"),
  "@musicpipe/memory/local": path("./packages/memory/src/local.ts"),
  "@musicpipe/memory/conformance": path("./packages/memory/src/conformance/index.ts"),
  "@musicpipe/core/parallel/prestart": path("./packages/core/src/parallel/prestart.ts"),
  "@musicpipe/core/parallel": path("./packages/core/src/parallel/index.ts"),
  "@musicpipe/core": path("./packages/core/src/index.ts"),
  "@musicpipe/memory": path("./packages/memory/src/index.ts"),
  "@musicpipe/aws": path("./packages/aws/src/index.ts"),
  "@musicpipe/cli": path("./packages/cli/src/index.ts"),
};

const packageProject = (name: string) => ({
  resolve: { alias },
  test: {
    name,
    root: `./packages/${name}`,
    include: ["tests/**/*.test.ts"],
    exclude: ["tests/integration/**"],
    environment: "node",
    testTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    reporters: ["default", "./scripts/summary-reporter.ts"],
    projects: [
      ...["core", "memory", "aws", "cli"].map(packageProject),
      {
        resolve: { alias },
        test: {
          name: "examples",
          root: "./examples",
          include: ["*/tests/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        // The packed packages installed in a scratch project (needs the build).
        test: {
          name: "packed",
          root: "./tests/packed",
          include: ["*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        // Every ts block of the docs and READMEs type-checks (the packages' sources, no build).
        test: {
          name: "docs",
          root: "./tests/docs",
          include: ["*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Tests against real local servers (DynamoDB Local, s3rver), started once for all of them.
        resolve: { alias },
        test: {
          name: "integration",
          root: ".",
          include: ["packages/*/tests/integration/**/*.test.ts"],
          globalSetup: ["./packages/aws/tests/integration/global-setup.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
