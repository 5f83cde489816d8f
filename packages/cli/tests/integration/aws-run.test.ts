import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { localS3Client, uniqueName } from "../../../aws/tests/integration/clients.js";
import { type NaiveFile, naiveKpis } from "../../../core/tests/reference/naive-kpis.js";
import { main } from "../../src/index.js";

const EDGE = fileURLToPath(new URL("../../../core/tests/fixtures/edge", import.meta.url));

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out.sort();
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("musicpipe against S3 and DynamoDB (local servers)", () => {
  const s3 = localS3Client();
  const bucket = uniqueName("musicpipe-e2e");
  const suffix = uniqueName("t");
  let target: string[];

  beforeAll(async () => {
    // The standard AWS SDK configuration, as a user would set it.
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_ENDPOINT_URL_S3: inject("s3Endpoint"),
      AWS_ENDPOINT_URL_DYNAMODB: inject("dynamodbEndpoint"),
      AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
      AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    });
    target = [
      "--target",
      "aws",
      "--bucket",
      bucket,
      "--force-path-style",
      ...["kpis", "top-songs", "top-genres", "files", "partials"].flatMap((t) => [
        `--${t}-table`,
        `${t}-${suffix}`,
      ]),
    ];
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  const keysUnder = async (prefix: string) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  };

  it("init creates the tables, then a second init finds them", async () => {
    const first = await cli("init", ...target);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Tables created: .*files-/);
    const second = await cli("init", ...target);
    expect(second.stdout).toMatch(/Tables created: none/);
  });

  it("runs twice with a re-delivery, lays the bucket out like the local target and exports the reference KPIs", async () => {
    const files = await walk(join(EDGE, "data/raw"));
    const put = async (path: string) =>
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: relative(EDGE, path), Body: await readFile(path) }),
      );
    for (const path of files) await put(path);

    const first = await cli("run", ...target, "--quiet");
    expect(first.code, first.stderr).toBe(1);
    await put(join(EDGE, "data/raw/streams/s01-times.csv"));
    const second = await cli("run", ...target, "--quiet");
    expect(second.stdout).toMatch(/Files: 1 processed: 1 archived/);

    expect(await keysUnder("data/raw/streams/")).toEqual([]);
    const archived = await keysUnder("data/archive/");
    const errored = await keysUnder("data/error/");
    const streams = files.filter((f) => f.includes("/streams/"));
    expect(archived.length + errored.length).toBe(streams.length + 1);
    expect(
      archived.every((k) => /^data\/archive\/\d{4}\/\d{2}\/\d{2}\/\d{8}T\d{9}Z_[^/]+\.csv$/.test(k)),
    ).toBe(true);
    expect(errored.some((k) => k.endsWith("_s11-header-only.csv"))).toBe(true);
    expect(errored.some((k) => k.endsWith("_s10-missing-track-id.csv"))).toBe(true);
    expect(archived.filter((k) => k.endsWith("_s01-times.csv"))).toHaveLength(2);
    expect((await keysUnder("data/raw/songs/")).length).toBe(
      files.filter((f) => f.includes("/songs/")).length,
    );
    expect((await keysUnder("data/kpis/")).length).toBeGreaterThan(0);

    const out = join(await mkdtemp(join(tmpdir(), "musicpipe-aws-")), "export.json");
    const exported = await cli("export", ...target, "--out", out);
    expect(exported.code, exported.stderr).toBe(0);
    const naive = async (kind: string): Promise<NaiveFile[]> =>
      Promise.all(
        files
          .filter((f) => f.includes(`/${kind}/`))
          .map(async (f) => ({ name: relative(EDGE, f), bytes: await readFile(f) })),
      );
    const unique = new Map((await naive("streams")).map((f) => [sha(f.bytes), f]));
    const reference = naiveKpis({
      streams: [...unique.values()],
      songs: await naive("songs"),
      users: await naive("users"),
    });
    const json = JSON.parse(await readFile(out, "utf8"));
    expect(json.genreStats).toEqual(reference.genreStats);
    expect(json.topSongs).toEqual(reference.topSongs);
    expect(json.topGenres).toEqual(reference.topGenres);

    const status = await cli("status", ...target);
    expect(status.stdout.trim().split("\n")).toHaveLength(streams.length);
    expect(status.stdout).toMatch(/data\/raw\/streams\/s01-times\.csv .*deliveries=2/);
  });

  it.each(["run", "status", "export"])(
    "%s says clearly when the bucket does not exist (exit 2)",
    async (command) => {
      const r = await cli(
        command,
        "--target",
        "aws",
        "--bucket",
        uniqueName("missing"),
        "--force-path-style",
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot reach bucket/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
  );
});
