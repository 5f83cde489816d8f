// `pnpm bench`: musicpipe kpis against DuckDB on the same generated files, alternately, 3 runs
// each, at 1M and 10M stream rows. Prints wall seconds, rows/s, MB/s, peak RSS and the ratio,
// and checks that both produce identical KPIs. Data is generated once into .bench/.
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
  options: { sizes: { type: "string", default: "1m,10m" }, runs: { type: "string", default: "3" } },
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
  const results = { musicpipe: [], duckdb: [] };
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
  }
  const identical = same(JSON.parse(readFileSync(outCli, "utf8")), JSON.parse(readFileSync(outDuck, "utf8")));
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
  const ratio =
    median(results.musicpipe.map((r) => r.seconds)) / median(results.duckdb.map((r) => r.seconds));
  console.log(
    `ratio musicpipe / DuckDB (median wall): ${ratio.toFixed(2)}; KPIs identical: ${identical ? "yes" : "NO"}`,
  );
  if (!identical) process.exitCode = 1;
}
