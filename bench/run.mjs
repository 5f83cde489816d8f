// `pnpm bench`: musicpipe against DuckDB on the same generated files, alternately, 3 runs each.
//
// - kpis: `musicpipe kpis` against DuckDB (two SQL variants: text columns checked like musicpipe
//   does, and --typed, listen_time typed by DuckDB's reader), on 1M and 10M rows of the default
//   data and on the high-cardinality set `hc` (2M users, 500k tracks, 5M rows over 30 days in 10
//   files, mild skew). Wall seconds, rows/s, MB/s, peak RSS, ratios, identical KPIs.
// - pipeline (10m, hc): `musicpipe run --root` over the same files: wall, peak RSS, the bytes
//   stored under .musicpipe/ against the streams files', the ratio to kpis, identical KPIs.
// - small delivery (hc): a 100-row file touching all 30 dates, into a fresh root (the catalogs
//   compiled then) and into the root after the whole history, against DuckDB computing the
//   KPIs of the same rows from the same catalog files.
// - the AWS path: `musicpipe run --target aws` over 1M rows on the local S3 server and DynamoDB
//   Local.
// Data is generated once into .bench/ (git-ignored).
//   node bench/run.mjs [--sizes 1m,10m,hc] [--runs 3] [--small-runs 7] [--s3 1m|none] [--pipeline 10m,hc|none]
// The small delivery takes about two seconds a run, where the machine's noise is a tenth of it:
// it is run more often (--small-runs) than the long measurements (--runs).
import { spawnSync } from "node:child_process";
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const bench = join(root, ".bench");
const cli = join(root, "packages/cli/dist/bin.js");
const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1m,10m,hc" },
    runs: { type: "string", default: "3" },
    "small-runs": { type: "string", default: "7" },
    s3: { type: "string", default: "1m" },
    pipeline: { type: "string", default: "10m,hc" },
  },
});
const runs = Number(values.runs);
const smallRuns = Number(values["small-runs"]);
/** The data sets: default data at 1M and 10M rows, and the high-cardinality set. */
const SETS = {
  "1m": { rows: 1_000_000, args: ["--songs", "114000", "--users", "50000", "--days", "7", "--seed", "1"] },
  "10m": { rows: 10_000_000, args: ["--songs", "114000", "--users", "50000", "--days", "7", "--seed", "1"] },
  hc: {
    rows: 5_000_000,
    args: [
      ...["--songs", "500000", "--users", "2000000", "--days", "30", "--files", "10", "--seed", "7"],
      ...["--track-skew", "0.6", "--user-skew", "0.4"],
    ],
  },
};

function dataset(name) {
  const dir = join(bench, name);
  const set = SETS[name];
  if (set === undefined)
    throw new Error(`unknown data set '${name}' (known: ${Object.keys(SETS).join(", ")})`);
  if (!existsSync(join(dir, "data/raw/streams"))) {
    console.error(`generating ${name} (${set.rows} stream rows) into ${dir}`);
    const args = ["generate", "--out", dir, "--streams", String(set.rows), ...set.args, "--quiet"];
    if (spawnSync(process.execPath, [cli, ...args], { stdio: "inherit" }).status !== 0) process.exit(1);
  }
  const raw = join(dir, "data/raw");
  const streams = readdirSync(join(raw, "streams"))
    .filter((f) => /^streams\d+\.csv$/.test(f))
    .map((f) => join(raw, "streams", f));
  const songs = join(raw, "songs/songs.csv");
  const users = join(raw, "users/users.csv");
  const streamBytes = streams.reduce((a, f) => a + statSync(f).size, 0);
  return {
    name,
    rows: set.rows,
    raw,
    streams,
    songs,
    users,
    streamBytes,
    bytes: streamBytes + statSync(songs).size + statSync(users).size,
  };
}

/** Runs a Node script under bench/rss.mjs: wall seconds and peak RSS (MiB), worker threads included. */
function measure(script, args) {
  const rssFile = join(bench, "rss.txt");
  // What the run before wrote (or deleted: a root made anew) is flushed first, not during this
  // run (a run that writes many small files pays for the file system's journal otherwise).
  spawnSync("sync");
  const started = performance.now();
  const out = spawnSync(process.execPath, [join(root, "bench/rss.mjs"), script, ...args], {
    env: { ...process.env, BENCH_RSS_OUT: rssFile },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const seconds = (performance.now() - started) / 1000;
  // `run` exits 1 when a file was rejected (the generated sets hold one invalid file on purpose).
  if (out.status !== 0 && out.status !== 1) throw new Error(`${script} exited with ${out.status}`);
  return { seconds, rssMiB: Number(readFileSync(rssFile, "utf8")) / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const same = (a, b) =>
  ["genreStats", "topSongs", "topGenres"].every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/** Bytes of every file under a folder. */
function bytesUnder(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

/** A root holding the catalogs and `streams` (hard links: the run moves them, the originals stay). */
function freshRoot(dir, d, streams) {
  rmSync(dir, { recursive: true, force: true });
  for (const kind of ["songs", "users", "streams"])
    mkdirSync(join(dir, "data/raw", kind), { recursive: true });
  linkSync(d.songs, join(dir, "data/raw/songs/songs.csv"));
  linkSync(d.users, join(dir, "data/raw/users/users.csv"));
  for (const file of streams) {
    const name = file.split("/").pop();
    if (file.startsWith(bench)) linkSync(file, join(dir, "data/raw/streams", name));
    else writeFileSync(join(dir, "data/raw/streams", name), readFileSync(file));
  }
}

function printTable(rows) {
  console.log("| implementation | wall (median) | runs | rows/s | MB/s | peak RSS |");
  console.log("|---|---|---|---|---|---|");
  for (const { name, results, rowCount, bytes } of rows) {
    const s = median(results.map((r) => r.seconds));
    const rate = rowCount === undefined ? "" : Math.round(rowCount / s).toLocaleString("en-US");
    const mbs = bytes === undefined ? "" : (bytes / 1e6 / s).toFixed(0);
    console.log(
      `| ${name} | ${s.toFixed(2)} s | ${results.map((r) => r.seconds.toFixed(2)).join(", ")} | ${rate} | ${mbs} | ${Math.max(...results.map((r) => r.rssMiB)).toFixed(0)} MiB |`,
    );
  }
}

if (!existsSync(cli)) {
  console.error("build first: npx -y pnpm@12.4.2 build");
  process.exit(2);
}
console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
const kpisMedian = new Map();
for (const size of values.sizes.split(",").filter(Boolean)) {
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
  const mine = readJson(outCli);
  const identical = same(mine, readJson(outDuck)) && same(mine, readJson(outTyped));
  console.log(
    `\n${size}: ${d.rows.toLocaleString("en-US")} stream rows, ${(d.bytes / 1e6).toFixed(0)} MB in ${d.streams.length} streams files + songs + users; ${runs} runs each, alternating`,
  );
  printTable(
    Object.entries(results).map(([name, rs]) => ({ name, results: rs, rowCount: d.rows, bytes: d.bytes })),
  );
  const mp = median(results.musicpipe.map((r) => r.seconds));
  kpisMedian.set(size, mp);
  const duck = median(results.duckdb.map((r) => r.seconds));
  const typed = median(results["duckdb --typed"].map((r) => r.seconds));
  console.log(
    `ratio musicpipe / DuckDB (median wall): ${(mp / duck).toFixed(2)}; against DuckDB --typed: ${(mp / typed).toFixed(2)}; against the faster of the two: ${(mp / Math.min(duck, typed)).toFixed(2)}; KPIs identical (all three): ${identical ? "yes" : "NO"}`,
  );
  if (!identical) process.exitCode = 1;
}

// The whole pipeline over a local root: run --root against kpis, state stored, same KPIs.
for (const size of values.pipeline === "none" ? [] : values.pipeline.split(",").filter(Boolean)) {
  const d = dataset(size);
  const dir = join(bench, `run-${size}`);
  const results = [];
  let state = 0;
  let identical = true;
  for (let i = 0; i < runs; i++) {
    freshRoot(dir, d, d.streams);
    results.push(measure(cli, ["run", "--root", dir, "--quiet"]));
    state = bytesUnder(join(dir, ".musicpipe"));
    const exported = join(bench, `run-${size}-export.json`);
    spawnSync(process.execPath, [cli, "export", "--root", dir, "--out", exported], { stdio: "ignore" });
    identical &&= same(readJson(exported), readJson(join(bench, `kpis-${size}-musicpipe.json`)));
  }
  console.log(
    `\npipeline ${size}: musicpipe run --root over the ${d.streams.length} streams files (${(d.streamBytes / 1e6).toFixed(0)} MB); ${runs} runs`,
  );
  printTable([{ name: "musicpipe run --root", results, rowCount: d.rows, bytes: d.bytes }]);
  const wall = median(results.map((r) => r.seconds));
  const kpis = kpisMedian.get(size);
  console.log(
    `state under .musicpipe/: ${(state / 1e6).toFixed(1)} MB = ${(state / d.streamBytes).toFixed(2)}x the streams files; ${kpis === undefined ? "" : `run / kpis (median wall): ${(wall / kpis).toFixed(2)}; `}exported KPIs equal kpis': ${identical ? "yes" : "NO"}`,
  );
  if (!identical) process.exitCode = 1;

  if (size !== "hc") continue;
  // A 100-row delivery touching every date: into a fresh root, and into this root after its
  // history; DuckDB computing the same rows' KPIs from the same catalog files.
  const lines = readFileSync(d.streams[2], "utf8").split("\n").slice(1).filter(Boolean);
  const delivery = (k) => {
    const rows = Array.from({ length: 100 }, (_, i) => lines[Math.floor((i * lines.length) / 100) + 7 + k]);
    const path = join(bench, `delivery-${k}.csv`);
    writeFileSync(path, `user_id,track_id,listen_time\n${rows.join("\n")}\n`);
    return path;
  };
  const small = { fresh: [], history: [], duckdb: [] };
  for (let i = 0; i < smallRuns; i++) {
    const file = delivery(i);
    const fresh = join(bench, "fresh-hc");
    freshRoot(fresh, d, [file]);
    small.fresh.push(measure(cli, ["run", "--root", fresh, "--quiet"]));
    writeFileSync(join(dir, "data/raw/streams/delivery.csv"), readFileSync(file));
    small.history.push(measure(cli, ["run", "--root", dir, "--quiet"]));
    small.duckdb.push(
      measure(join(root, "bench/duckdb-kpis.mjs"), [
        join(bench, "delivery-duckdb.json"),
        d.songs,
        d.users,
        file,
      ]),
    );
  }
  console.log(`\nsmall delivery (hc): 100 rows over all 30 dates; ${smallRuns} runs each, alternating`);
  printTable([
    { name: "run --root, fresh root", results: small.fresh },
    { name: "run --root, after the history", results: small.history },
    { name: "DuckDB, the same rows and catalog files", results: small.duckdb },
  ]);
  const m = (rs) => median(rs.map((r) => r.seconds));
  const rss = (rs) => Math.max(...rs.map((r) => r.rssMiB));
  console.log(
    `after history / fresh: wall ${(m(small.history) / m(small.fresh)).toFixed(2)}, peak RSS ${(rss(small.history) / rss(small.fresh)).toFixed(2)}; fresh / DuckDB: wall ${(m(small.fresh) / m(small.duckdb)).toFixed(2)}`,
  );
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
    for (const file of [...d.streams, d.songs, d.users]) {
      await new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: `data/raw/${file.slice(d.raw.length + 1)}`,
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
    const reference = join(bench, `kpis-${values.s3}-musicpipe.json`);
    const identical = existsSync(reference) && same(readJson(exported), readJson(reference));
    console.log(
      `\nAWS path (${values.s3}, local S3 server + DynamoDB Local): musicpipe run --target aws took ${seconds.toFixed(2)} s (${Math.round(d.rows / seconds).toLocaleString("en-US")} rows/s, exit ${status}); exported KPIs equal the local kpis output: ${identical ? "yes" : existsSync(reference) ? "NO" : "(no kpis run of this set)"}`,
    );
    if (existsSync(reference) && !identical) process.exitCode = 1;
  } finally {
    await Promise.all([ddb.stop(), s3.stop()]);
  }
}
