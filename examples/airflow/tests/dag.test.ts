// Runs the Python checks of the DAG files (test_dags.py, against the Airflow stand-in in
// standin/) as part of the vitest suite.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const EXPECTED_TESTS = 16;

describe("the Airflow DAGs (python3 -m unittest, Airflow stand-in)", () => {
  it("compile, and declare the expected tasks, dependencies, retries and payloads", () => {
    const run = spawnSync("python3", ["-m", "unittest", "discover", "-s", "examples/airflow/tests", "-v"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
      // No __pycache__ folders in the work tree.
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    expect(run.error).toBeUndefined();
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).toMatch(new RegExp(`^Ran ${EXPECTED_TESTS} tests? in `, "m"));
    expect(output).toMatch(/^OK( \(skipped=\d+\))?$/m);
  });
});
