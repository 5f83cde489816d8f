import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const cliDir = fileURLToPath(new URL("..", import.meta.url));
const built = ["core", "memory", "aws", "cli"].every((p) =>
  existsSync(fileURLToPath(new URL(`../../${p}/dist/index.cjs`, import.meta.url))),
);

// The built packages, loaded the way users load them: through package.json "exports".
describe.skipIf(!built)("published entry points", () => {
  it.each([
    ["@musicpipe/core", "computeKpis"],
    ["@musicpipe/memory", "createLocalObjectStore"],
    ["@musicpipe/aws", "createS3ObjectStore"],
    ["@musicpipe/aws/s3", "createS3ObjectStore"],
    ["@musicpipe/aws/dynamodb", "createDynamoDbTables"],
    ["@musicpipe/cli", "main"],
  ])("%s loads as ESM and as CommonJS with the same exports (%s among them)", async (name, expected) => {
    const esm = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import("${name}"); console.log(Object.keys(m).sort().join(","))`,
      ],
      { cwd: cliDir },
    );
    const cjs = await run(
      process.execPath,
      ["-e", `console.log(Object.keys(require("${name}")).sort().join(","))`],
      {
        cwd: cliDir,
      },
    );
    expect(esm.stdout.trim().split(",")).toContain(expected);
    expect(cjs.stdout).toBe(esm.stdout);
  });

  it("exports the conformance suites as ESM only", async () => {
    const esm = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const m = await import("@musicpipe/memory/conformance"); console.log(typeof m.runObjectStoreConformance)',
      ],
      { cwd: cliDir },
    );
    expect(esm.stdout.trim()).toBe("function");
  });

  it("the CommonJS build of core computes KPIs", async () => {
    const script = `
      const { computeKpis } = require("@musicpipe/core");
      const f = (name, text) => ({ name, open: () => [Buffer.from(text)] });
      computeKpis({
        streams: [f("s.csv", "user_id,track_id,listen_time\\nu1,t1,2025-06-22 10:00:00\\n")],
        songs: [f("songs.csv", "track_id,track_name,track_genre,duration_ms\\nt1,A,pop,5\\n")],
        users: [f("u.csv", "user_id,user_name\\nu1,x\\n")],
      }).then((r) => console.log(JSON.stringify(r.kpis.topGenres)));`;
    const { stdout } = await run(process.execPath, ["-e", script], { cwd: cliDir });
    expect(JSON.parse(stdout)).toEqual([{ listenDate: "2025-06-22", rank: 1, genre: "pop", listenCount: 1 }]);
  });
});
