import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/index.js";

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...argv: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

let dir: string;
const path = (...parts: string[]) => join(dir, ...parts);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicpipe-cli-"));
  for (const kind of ["streams", "songs", "users"])
    await mkdir(path("data", "raw", kind), { recursive: true });
  await writeFile(
    path("data/raw/songs/songs.csv"),
    'track_id,track_name,track_genre,duration_ms\nt1,"Hello, ""World""",pop,1000\nt2,Two,rock,3000\n',
  );
  await writeFile(path("data/raw/users/users.csv"), "user_id,user_name\nu1,Ann\nu2,Bob\n");
  await writeFile(
    path("data/raw/streams/a.csv"),
    "user_id,track_id,listen_time\nu1,t1,2025-06-22 10:00:00\nu2,t1,2025-06-22 11:00:00\nu2,t2,2025-06-23T01:00:00+02:00\n",
  );
});

describe("musicpipe kpis", () => {
  it("writes the KPI JSON with exactly the documented fields and prints a summary", async () => {
    const out = path("kpis.json");
    const r = await cli("kpis", "--root", dir, "--out", out, "--quiet");
    expect(r.code).toBe(0);
    const json = JSON.parse(await readFile(out, "utf8"));
    expect(Object.keys(json)).toEqual(["genreStats", "topSongs", "topGenres"]);
    expect(json.genreStats).toEqual([
      {
        listenDate: "2025-06-22",
        genre: "pop",
        listenCount: 2,
        uniqueListeners: 2,
        totalListeningTimeMs: 2000,
        avgListeningTimePerUserMs: 1000,
      },
      {
        listenDate: "2025-06-22",
        genre: "rock",
        listenCount: 1,
        uniqueListeners: 1,
        totalListeningTimeMs: 3000,
        avgListeningTimePerUserMs: 3000,
      },
    ]);
    expect(Object.keys(json.topSongs[0])).toEqual([
      "listenDate",
      "genre",
      "rank",
      "trackId",
      "trackName",
      "listenCount",
    ]);
    expect(json.topSongs[0].trackName).toBe('Hello, "World"');
    expect(Object.keys(json.topGenres[0])).toEqual(["listenDate", "rank", "genre", "listenCount"]);
    expect(r.stdout).toContain("1 of 1 files accepted");
    expect(r.stdout).toContain("1. pop (2 listens)");
    expect(r.stderr).toBe("");
  });

  it("accepts explicit file lists, and prints JSON on stdout without --out", async () => {
    const r = await cli(
      "kpis",
      "--streams",
      path("data/raw/streams/a.csv"),
      "--songs",
      path("data/raw/songs/songs.csv"),
      "--users",
      path("data/raw/users"),
      "--quiet",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).topGenres).toHaveLength(2);
    expect(r.stderr).toContain("KPIs: 1 days");
  });

  it("exits 1 when a file is rejected, still counting the others, and names the reason", async () => {
    const bad = path("bad-streams.csv");
    await writeFile(bad, "user_id,listen_time\nu1,2025-06-22 10:00:00\n");
    const r = await cli(
      "kpis",
      "--streams",
      path("data/raw/streams/a.csv"),
      bad,
      "--songs",
      path("data/raw/songs"),
      "--users",
      path("data/raw/users"),
      "--out",
      path("k2.json"),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /Rejected \(missing_column\): .*bad-streams\.csv: missing required column 'track_id'/,
    );
    expect(JSON.parse(await readFile(path("k2.json"), "utf8")).genreStats).toHaveLength(2);
    expect(r.stderr).toMatch(/rejected streams file \(missing_column\): .*bad-streams\.csv/);
  });

  it.each([
    [["kpis"], /option '--streams' is required/],
    [
      ["kpis", "--root", "/nonexistent/musicpipe"],
      /cannot read '\/nonexistent\/musicpipe\/data\/raw\/streams'/,
    ],
    [["kpis", "--root"], /option '--root' needs a value/],
    [["kpis", "--bogus"], /unknown option '--bogus'/],
    [["kpis", "--root", ".", "--max-bad-row-share", "2"], /must be a number from 0 to 1/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["generate", "--out", "x", "--streams", "many"], /must be a whole number/],
    [["kpis", "--root", ".", "--workers", "1000"], /option '--workers' must be a whole number from 1 to 64/],
    [["run", "--root", ".", "--workers", "0"], /option '--workers' must be a whole number from 1 to 64/],
  ])("exits 2 with a short message for %j", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("prints help with exit 0", async () => {
    const r = await cli("kpis", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: musicpipe kpis");
    expect((await cli("--help")).stdout).toContain("generate");
  });

  it("lists for init only what init takes: the AWS target, not --root", async () => {
    const help = (await cli("init", "--help")).stdout;
    expect(help).toContain("--target aws --bucket B");
    expect(help).toContain("--day-states-table N");
    expect(help).not.toContain("--root");
    const r = await cli("init", "--root", ".");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/init is for --target aws/);
    expect((await cli("run", "--help")).stdout).toContain("--root DIR");
  });
});

describe("the built binary", () => {
  const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
  const run = promisify(execFile);

  it.skipIf(!existsSync(bin))(
    "generates data and computes its KPIs end to end, with the documented exit codes",
    async () => {
      const root = path("gen");
      const gen = await run(process.execPath, [
        bin,
        "generate",
        "--out",
        root,
        "--streams",
        "20000",
        "--days",
        "3",
        "--seed",
        "7",
        "--quiet",
      ]);
      expect(gen.stdout).toContain("streams_invalid.csv");
      const out = path("gen-kpis.json");
      const result = await run(process.execPath, [bin, "kpis", "--root", root, "--out", out]).then(
        () => 0,
        (err: { code: number; stdout: string }) => {
          expect(err.stdout).toMatch(/Rejected \(missing_column\): .*streams_invalid\.csv/);
          return err.code;
        },
      );
      expect(result).toBe(1);
      const json = JSON.parse(await readFile(out, "utf8"));
      expect(new Set(json.genreStats.map((g: { listenDate: string }) => g.listenDate)).size).toBe(3);
      const usage = await run(process.execPath, [bin, "kpis"]).catch(
        (err: { code: number; stderr: string }) => err,
      );
      expect(usage).toMatchObject({ code: 2 });
    },
  );

  it.skipIf(!existsSync(bin))(
    "gives the same KPIs with worker threads, whole files or byte ranges, as in one thread",
    async () => {
      const root = path("gen-ranges");
      await run(process.execPath, [
        bin,
        "generate",
        "--out",
        root,
        "--streams",
        "30000",
        "--days",
        "3",
        "--seed",
        "11",
        "--files",
        "1",
        "--quiet",
      ]);
      const streams = join(root, "data/raw/streams/streams1.csv");
      const args = (out: string, workers: string) => [
        bin,
        "kpis",
        "--streams",
        streams,
        "--songs",
        join(root, "data/raw/songs"),
        "--users",
        join(root, "data/raw/users"),
        "--out",
        out,
        "--quiet",
        "--workers",
        workers,
      ];
      await run(process.execPath, args(path("one.json"), "1"));
      // Ranges of at least 64 KB: the 30,000-row file is cut into two, one per worker.
      await run(process.execPath, args(path("ranges.json"), "2"), {
        env: { ...process.env, MUSICPIPE_MIN_RANGE_BYTES: "65536" },
      });
      await run(process.execPath, args(path("whole.json"), "2"));
      const one = await readFile(path("one.json"), "utf8");
      expect(JSON.parse(one).genreStats.length).toBeGreaterThan(0);
      expect(await readFile(path("ranges.json"), "utf8")).toBe(one);
      expect(await readFile(path("whole.json"), "utf8")).toBe(one);
    },
  );
});
