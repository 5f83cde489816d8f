// The AWS SDK's nine-line Node.js notice never reaches the CLI's output: on Node.js 20 one
// line of ours on stderr instead, on 22 and later nothing.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

describe.skipIf(!existsSync(bin))("the CLI on the AWS target", () => {
  it("says at most one line about the Node.js version, and nothing of the SDK's", async () => {
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    Object.assign(env, {
      // Nothing listens there: the command fails at once, after the clients were made.
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_MAX_ATTEMPTS: "1",
    });
    const result = await run(process.execPath, [bin, "status", "--target", "aws", "--bucket", "b"], {
      env,
    }).then(
      () => ({ stderr: "" }),
      (err: { stderr: string }) => err,
    );
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|a\.co\//);
    const notices = result.stderr.split("\n").filter((l) => l.includes("past its end of life"));
    const major = Number(process.versions.node.split(".")[0]);
    expect(notices).toHaveLength(major < 22 ? 1 : 0);
    if (major < 22) expect(notices[0]).toMatch(/^musicpipe: Node\.js v20\.\S+ is past its end of life/);
  });
});
