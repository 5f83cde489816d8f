// 2,000 small files on one listen date through S3 and DynamoDB (the local servers), in four
// deliveries: the KPIs stay exact and the date's pointer item does not grow with the files the
// date holds. Seconds per file of each delivery are printed (the curve; no bound on time).
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { localDynamoDbClient, localS3Client, uniqueName } from "../../../aws/tests/integration/clients.js";
import { type NaiveFile, naiveKpis } from "../../../core/tests/reference/naive-kpis.js";
import { main } from "../../src/index.js";

const DELIVERIES = 4;
const FILES = 500;
const TRACKS = 40;
const USERS = 300;
const DATE = "2025-06-22";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** File `n`: three rows on {@link DATE}, different for every `n`. */
function streamsFile(n: number): string {
  const rows = [0, 1, 2].map((r) => {
    const second = (n * 3 + r) % 86_400;
    const time = new Date(Date.UTC(2025, 5, 22) + second * 1000).toISOString().slice(0, 19).replace("T", " ");
    return `u${(n * 7 + r * 13) % USERS},t${(n * 11 + r) % TRACKS},${time}`;
  });
  return `user_id,track_id,listen_time\n${rows.join("\n")}\n`;
}

describe("musicpipe run --target aws with 2,000 small files on one date", () => {
  const s3 = localS3Client();
  const bucket = uniqueName("musicpipe-many");
  const suffix = uniqueName("m");
  const target = [
    "--target",
    "aws",
    "--bucket",
    bucket,
    "--force-path-style",
    ...["kpis", "top-songs", "top-genres", "files", "partials", "day-states"].flatMap((t) => [
      `--${t}-table`,
      `${t}-${suffix}`,
    ]),
  ];
  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

  beforeAll(async () => {
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_ENDPOINT_URL_S3: inject("s3Endpoint"),
      AWS_ENDPOINT_URL_DYNAMODB: inject("dynamodbEndpoint"),
      AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
      AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const init = await cli("init", ...target);
    expect(init.code, init.stderr).toBe(0);
  });

  it("keeps the KPIs exact and the date's pointer the same size, delivery after delivery", async () => {
    const songs = `track_id,track_name,track_genre,duration_ms\n${Array.from({ length: TRACKS }, (_, t) => `t${t},Song ${t},genre${t % 5},${1000 + t}`).join("\n")}\n`;
    const users = `user_id,user_name\n${Array.from({ length: USERS }, (_, u) => `u${u},User ${u}`).join("\n")}\n`;
    await put("data/raw/songs/songs.csv", songs);
    await put("data/raw/users/users.csv", users);
    const dynamodb = localDynamoDbClient();
    // The date's pointer item, as stored.
    const pointer = async () =>
      JSON.stringify(
        (
          await dynamodb.send(
            new GetItemCommand({
              TableName: `day-states-${suffix}`,
              Key: { listen_date: { S: DATE }, shard: { N: "0" } },
              ConsistentRead: true,
            }),
          )
        ).Item,
      ).length;
    const delivered: NaiveFile[] = [];
    const curve: string[] = [];
    const pointers: number[] = [];
    for (let d = 0; d < DELIVERIES; d++) {
      const batch = Array.from({ length: FILES }, (_, i) => {
        const name = `data/raw/streams/d${d}-${String(i).padStart(5, "0")}.csv`;
        return { name, content: streamsFile(d * FILES + i) };
      });
      for (let i = 0; i < batch.length; i += 16)
        await Promise.all(batch.slice(i, i + 16).map((f) => put(f.name, f.content)));
      delivered.push(...batch.map((f) => ({ name: f.name, bytes: Buffer.from(f.content) })));
      const run = await cli("run", ...target, "--json", "--quiet");
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as {
        seconds: number;
        files: { outcome: string }[];
        dates: { listenDate: string; written: boolean; sources: number; absorbed: number }[];
      };
      expect(summary.files.filter((f) => f.outcome === "archived")).toHaveLength(FILES);
      expect(summary.dates).toEqual([
        { listenDate: DATE, written: true, sources: (d + 1) * FILES, absorbed: FILES },
      ]);
      curve.push(`${((summary.seconds * 1000) / FILES).toFixed(2)} ms`);
      pointers.push(await pointer());
    }
    console.log(`ms per file, delivery by delivery (${FILES} files each): ${curve.join(", ")}`);
    expect(Math.max(...pointers) - Math.min(...pointers)).toBeLessThan(8);
    const out = join(tmpdir(), `musicpipe-many-${suffix}.json`);
    const exported = await cli("export", ...target, "--out", out);
    expect(exported.code, exported.stderr).toBe(0);
    const kpis = JSON.parse(await readFile(out, "utf8"));
    const expected = naiveKpis({
      streams: delivered,
      songs: [{ name: "songs.csv", bytes: Buffer.from(songs) }],
      users: [{ name: "users.csv", bytes: Buffer.from(users) }],
    });
    expect(kpis.genreStats).toEqual(expected.genreStats);
    expect(kpis.topSongs).toEqual(expected.topSongs);
    expect(kpis.topGenres).toEqual(expected.topGenres);
  }, 900_000);
});
