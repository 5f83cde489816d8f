// `pnpm bench`: musicpipe kpis against DuckDB (two SQL variants: text columns checked like
// musicpipe does, and --typed, listen_time typed by DuckDB's reader) on the same generated
// files, alternately, 3 runs each, at 1M and 10M stream rows. Prints wall seconds, rows/s,
// MB/s, peak RSS and the ratios, and checks that all three produce identical KPIs. Data is
// generated once into .bench/.
//   node bench/run.mjs [--sizes 1m,10m] [--runs 3]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const bench = join(root, ".bench");
const cli = join(root, "packages/cli/dist/bin.js");
const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1m,10m" },
    runs: { type: "string", default: "3" },
    s3: { type: "string", default: "1m" },
  },
});
const runs = Number(values.runs);
const SIZES = { "1m": 1_000_000, "10m": 10_000_000 };

function dataset(name) {
  const dir = join(bench, name);
  const rows = SIZES[name];
  if (!existsSync(join(dir, "data/raw/streams"))) {
    console.error(`generating ${name} (${rows} stream rows) into ${dir}`);
    const args = [
      "generate",
      "--out",
      dir,
      "--streams",
      String(rows),
      "--songs",
      "114000",
      "--users",
      "50000",
      "--days",
      "7",
      "--seed",
      "1",
      "--quiet",
    ];
    if (spawnSync(process.execPath, [cli, ...args], { stdio: "inherit" }).status !== 0) process.exit(1);
  }
  const raw = join(dir, "data/raw");
  const streams = readdirSync(join(raw, "streams"))
    .filter((f) => /^streams\d+\.csv$/.test(f))
    .map((f) => join(raw, "streams", f));
  const files = [...streams, join(raw, "songs/songs.csv"), join(raw, "users/users.csv")];
  return {
    rows,
    streams,
    songs: join(raw, "songs/songs.csv"),
    users: join(raw, "users/users.csv"),
    bytes: files.reduce((a, f) => a + statSync(f).size, 0),
  };
}

function measure(script, args) {
  const rssFile = join(bench, "rss.txt");
  const started = performance.now();
  const out = spawnSync(process.execPath, [join(root, "bench/rss.mjs"), script, ...args], {
    env: { ...process.env, BENCH_RSS_OUT: rssFile },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const seconds = (performance.now() - started) / 1000;
  if (out.status !== 0) throw new Error(`${script} exited with ${out.status}`);
  return { seconds, rssMiB: Number(readFileSync(rssFile, "utf8")) / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const same = (a, b) =>
  ["genreStats", "topSongs", "topGenres"].every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));

if (!existsSync(cli)) {
  console.error("build first: npx -y pnpm@12.4.2 build");
  process.exit(2);
}
console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
for (const size of values.sizes.split(",")) {
  const d = dataset(size);
  const outCli = join(bench, `kpis-${size}-musicpipe.json`);
  const outDuck = join(bench, `kpis-${size}-duckdb.json`);
  const outTyped = join(bench, `kpis-${size}-duckdb-typed.json`);
  const results = { musicpipe: [], duckdb: [], "duckdb --typed": [] };
  // Every input read once before timing: files left cold in the page cache (this machine kind
  // reclaims idle page cache) would make whichever tool runs first read from disk.
  for (const file of [...d.streams, d.songs, d.users]) readFileSync(file);
  for (let i = 0; i < runs; i++) {
    results.musicpipe.push(
      measure(cli, [
        "kpis",
        "--streams",
        ...d.streams,
        "--songs",
        d.songs,
        "--users",
        d.users,
        "--out",
        outCli,
        "--quiet",
      ]),
    );
    results.duckdb.push(
      measure(join(root, "bench/duckdb-kpis.mjs"), [outDuck, d.songs, d.users, ...d.streams]),
    );
    results["duckdb --typed"].push(
      measure(join(root, "bench/duckdb-kpis.mjs"), ["--typed", outTyped, d.songs, d.users, ...d.streams]),
    );
  }
  const mine = JSON.parse(readFileSync(outCli, "utf8"));
  const identical =
    same(mine, JSON.parse(readFileSync(outDuck, "utf8"))) &&
    same(mine, JSON.parse(readFileSync(outTyped, "utf8")));
  console.log(
    `\n${size}: ${d.rows.toLocaleString("en-US")} stream rows, ${(d.bytes / 1e6).toFixed(0)} MB in ${d.streams.length} streams files + songs + users; ${runs} runs each, alternating`,
  );
  console.log("| implementation | wall (median) | runs | rows/s | MB/s | peak RSS |");
  console.log("|---|---|---|---|---|---|");
  for (const [name, rs] of Object.entries(results)) {
    const s = median(rs.map((r) => r.seconds));
    console.log(
      `| ${name} | ${s.toFixed(2)} s | ${rs.map((r) => r.seconds.toFixed(2)).join(", ")} | ${Math.round(d.rows / s).toLocaleString("en-US")} | ${(d.bytes / 1e6 / s).toFixed(0)} | ${Math.max(...rs.map((r) => r.rssMiB)).toFixed(0)} MiB |`,
    );
  }
  const mp = median(results.musicpipe.map((r) => r.seconds));
  const duck = median(results.duckdb.map((r) => r.seconds));
  const typed = median(results["duckdb --typed"].map((r) => r.seconds));
  console.log(
    `ratio musicpipe / DuckDB (median wall): ${(mp / duck).toFixed(2)}; against DuckDB --typed: ${(mp / typed).toFixed(2)}; against the faster of the two: ${(mp / Math.min(duck, typed)).toFixed(2)}; KPIs identical (all three): ${identical ? "yes" : "NO"}`,
  );
  if (!identical) process.exitCode = 1;
}

// The AWS path: the whole pipeline (musicpipe run --target aws) over the local S3 server and
// DynamoDB Local, S3 GetObject bodies streamed straight into the row source.
if (values.s3 !== "none") {
  const { startDynamoDbLocal, startS3rver } = await import("../scripts/local-aws.mjs");
  // The SDK is a dependency of the CLI package, not of the repository root.
  const { createRequire } = await import("node:module");
  const require = createRequire(join(root, "packages/cli/package.json"));
  const { S3Client, CreateBucketCommand } = require("@aws-sdk/client-s3");
  const { Upload } = require("@aws-sdk/lib-storage");
  const { createReadStream } = await import("node:fs");
  const d = dataset(values.s3);
  const [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3rver()]);
  try {
    const env = {
      ...process.env,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
      AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    };
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    const bucket = "musicpipe-bench";
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const raw = join(bench, values.s3, "data/raw");
    for (const file of [...d.streams, d.songs, d.users]) {
      await new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: `data/raw/${file.slice(raw.length + 1)}`,
          Body: createReadStream(file),
        },
      }).done();
    }
    const cliArgs = (...args) =>
      spawnSync(process.execPath, [cli, ...args, "--target", "aws", "--bucket", bucket], {
        env,
        stdio: ["ignore", "ignore", "inherit"],
      });
    if (cliArgs("init").status !== 0) throw new Error("init failed");
    const started = performance.now();
    const status = cliArgs("run", "--quiet").status;
    const seconds = (performance.now() - started) / 1000;
    const exported = join(bench, `kpis-${values.s3}-s3.json`);
    cliArgs("export", "--out", exported);
    const identical = same(
      JSON.parse(readFileSync(exported, "utf8")),
      JSON.parse(readFileSync(join(bench, `kpis-${values.s3}-musicpipe.json`), "utf8")),
    );
    console.log(
      `\nAWS path (${values.s3}, local S3 server + DynamoDB Local): musicpipe run --target aws took ${seconds.toFixed(2)} s (${Math.round(d.rows / seconds).toLocaleString("en-US")} rows/s, exit ${status}); exported KPIs equal the local kpis output: ${identical ? "yes" : "NO"}`,
    );
    if (!identical) process.exitCode = 1;
  } finally {
    await Promise.all([ddb.stop(), s3.stop()]);
  }
}
