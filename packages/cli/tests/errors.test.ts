// How the CLI fails: one line, no stack trace, the documented exit codes; a closed stdout is a
// normal end; outputs are checked before any work; `--version`.
import { execFile, spawn } from "node:child_process";
import { constants, existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDataset } from "../src/generate/index.js";
import { main } from "../src/index.js";
import { writeFileAtomic } from "../src/io.js";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** Exit 2, nothing on stdout, and on stderr exactly one line, without a stack trace. */
function expectUsageError(r: { code: number; stdout: string; stderr: string }, message: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(message);
  expect(r.stderr.endsWith("\n")).toBe(true);
  expect(r.stderr.trimEnd().split("\n"), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at |Usage:/);
}

const version: string = JSON.parse(
  await readFile(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8"),
).version;

let dir: string;
/** A root that went through `run`: file records and stored KPIs. */
let root: string;
/** Raw data only (no invalid streams file, so `kpis` over it exits 0). */
let raw: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "musicpipe-errors-"));
  root = join(dir, "root");
  await generateDataset({ out: root, streams: 5000, days: 7, seed: 3, files: 1 });
  expect((await cli("run", "--root", root, "--quiet")).code).toBe(1); // the invalid file is rejected
  raw = join(dir, "raw");
  await generateDataset({ out: raw, streams: 2000, days: 2, seed: 3, files: 1 });
  await rm(join(raw, "data/raw/streams/streams_invalid.csv"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("usage errors", () => {
  it.each([
    [["kpis", "--bogus"], "kpis"],
    [["kpis", "--root"], "kpis"],
    [["generate", "--out", "x", "--streams", "many"], "generate"],
    [["status", "stray"], "status"],
    [["run", "--root", ".", "--workers", "0"], "run"],
  ])("%j: one line pointing to the command's --help, not the whole usage", async (argv, name) => {
    const r = await cli(...argv);
    expectUsageError(r, new RegExp(`^musicpipe ${name}: .*\\(see musicpipe ${name} --help\\)\\n$`));
  });

  it("an unknown command or top-level option points to musicpipe --help", async () => {
    expectUsageError(
      await cli("frobnicate"),
      /^musicpipe: unknown command 'frobnicate' \(see musicpipe --help\)/,
    );
    expectUsageError(
      await cli("--frobnicate"),
      /^musicpipe: unknown option '--frobnicate' \(see musicpipe --help\)/,
    );
    expectUsageError(await cli("help", "frobnicate"), /unknown command 'frobnicate'/);
  });

  it("--help still prints the whole usage", async () => {
    const r = await cli("kpis", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: musicpipe kpis");
    expect(r.stdout).toContain("--max-row-bytes");
    expect((await cli("help", "status")).stdout).toContain("Usage: musicpipe status");
  });
});

describe("--root that is not a folder", () => {
  it.each(["status", "export"])("%s --root /nonexistent exits 2 with one line", async (command) => {
    expectUsageError(
      await cli(command, "--root", "/nonexistent/musicpipe"),
      /--root '\/nonexistent\/musicpipe' does not exist/,
    );
  });

  it.each(["status", "export", "run"])("%s --root FILE exits 2 with one line", async (command) => {
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    expectUsageError(await cli(command, "--root", file), /--root '.*a-file' is not a folder/);
  });

  it("a bad --target is one line", async () => {
    expectUsageError(await cli("status", "--target", "gcp"), /--target must be 'aws'/);
  });
});

describe("--out", () => {
  it.each([
    ["kpis", (out: string) => ["kpis", "--root", raw, "--out", out]],
    ["export", (out: string) => ["export", "--root", root, "--out", out]],
  ])("%s --out FOLDER fails before any work, in one line, leaving no temporary file", async (_, argv) => {
    const out = join(dir, "out-folder");
    await mkdir(out, { recursive: true });
    // Without --quiet: a kpis run that started would print its progress first.
    expectUsageError(
      await cli(...argv(out)),
      /option '--out' must name a file, and '.*out-folder' is a folder/,
    );
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("--out in a folder that does not exist fails before any work", async () => {
    expectUsageError(
      await cli("export", "--root", root, "--out", join(dir, "nowhere", "k.json")),
      /option '--out': folder '.*nowhere' does not exist/,
    );
  });

  // Not tried on /dev/null: a version that replaces the file would replace the device (as root).
  it("writes into an existing named pipe instead of replacing it", async () => {
    const fifo = join(dir, "fifo");
    await promisify(execFile)("mkfifo", [fifo]);
    const reader = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      await writeFileAtomic(fifo, '{"a":1}\n');
      expect((await stat(fifo)).isFIFO()).toBe(true);
      const { bytesRead, buffer } = await reader.read(Buffer.alloc(64), 0, 64, null);
      expect(buffer.subarray(0, bytesRead).toString()).toBe('{"a":1}\n');
    } finally {
      await reader.close();
    }
  });

  it("a failed atomic write leaves no temporary file", async () => {
    const target = join(dir, "atomic", "target");
    await mkdir(target, { recursive: true }); // a folder: the final rename fails
    await expect(writeFileAtomic(target, "{}")).rejects.toThrow();
    expect(await readdir(join(dir, "atomic"))).toEqual(["target"]);
  });

  it("generate --out FILE names the flag, not ENOTDIR", async () => {
    const file = join(dir, "gen-file");
    await writeFile(file, "x");
    expectUsageError(
      await cli("generate", "--out", file, "--streams", "100"),
      /option '--out' must name a folder, and '.*gen-file' is a file/,
    );
    expectUsageError(
      await cli("generate", "--out", join(file, "below"), "--streams", "100"),
      /option '--out': '.*gen-file' is a file, not a folder/,
    );
  });
});

describe("generate's messages name the flags", () => {
  it.each([
    [["--start-date", "2025-02-30"], /option '--start-date' must be a date YYYY-MM-DD, got '2025-02-30'/],
    [["--start-date", "2025-6-1"], /option '--start-date' must be a date YYYY-MM-DD/],
    [
      ["--start-date", "9999-12-30", "--days", "5"],
      /option '--start-date' with '--days 5' goes past 9999-12-31/,
    ],
    [["--days", "40000"], /option '--days' must be a whole number from 1 to 36500/],
    [["--streams", "200G"], /option '--streams' must be a whole number from 1 to 100000000000/],
    [["--songs", "6M"], /option '--songs' must be a whole number from 1 to 5000000/],
    [["--track-skew", "11"], /option '--track-skew' must be a number from 0 to 10/],
  ])("%j", async (args, message) => {
    const r = await cli("generate", "--out", join(dir, "never"), ...args);
    expectUsageError(r, message);
    expect(r.stderr).not.toMatch(/generate: generate|startDate|trackSkew/);
    expect(existsSync(join(dir, "never"))).toBe(false);
  });
});

describe("--version", () => {
  it.each(["--version", "-V"])("%s prints the package version", async (flag) => {
    expect(await cli(flag)).toEqual({ code: 0, stdout: `musicpipe ${version}\n`, stderr: "" });
  });
});

describe("the built binary", () => {
  const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
  const built = existsSync(bin);

  /**
   * Runs the bin with its stdout closed by the reader: at once, or after the first chunk (as
   * `| head -1` does).
   */
  function closedStdout(argv: string[], after: "start" | "first-data") {
    return new Promise<{ code: number | null; signal: string | null; stderr: string; read: number }>(
      (done, fail) => {
        const child = spawn(process.execPath, [bin, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        let read = 0;
        child.stderr.setEncoding("utf8").on("data", (t: string) => {
          stderr += t;
        });
        if (after === "start") child.stdout.destroy();
        else
          child.stdout.once("data", (chunk: Buffer) => {
            read = chunk.length;
            child.stdout.destroy();
          });
        child.on("error", fail);
        child.on("close", (code, signal) => done({ code, signal, stderr, read }));
      },
    );
  }

  // kpis prints its summary on stderr when the JSON goes to stdout: that stays.
  it.skipIf(!built).each([
    ["status", () => ["status", "--root", root], ""],
    ["status --json", () => ["status", "--root", root, "--json"], ""],
    ["export", () => ["export", "--root", root], ""],
    ["kpis", () => ["kpis", "--root", raw, "--quiet", "--workers", "1"], "Streams: 1 of 1 files accepted"],
    ["--help", () => ["--help"], ""],
    ["--version", () => ["--version"], ""],
  ])("%s into a closed pipe ends quietly with the command's status", async (_, argv, stderr) => {
    const r = await closedStdout(argv(), "start");
    if (stderr === "") expect(r.stderr).toBe("");
    else expect(r.stderr).toMatch(new RegExp(`^${stderr}`));
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it.skipIf(!built)("export | head -1: a reader that stops after the first chunk", async () => {
    const r = await closedStdout(["export", "--root", root], "first-data");
    expect(r.read).toBeGreaterThan(0);
    expect(r.stderr).toBe("");
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it.skipIf(!built)("prints the version from the ESM and the CommonJS builds", async () => {
    const run = promisify(execFile);
    for (const file of [bin, bin.replace(/\.js$/, ".cjs")]) {
      expect((await run(process.execPath, [file, "--version"])).stdout).toBe(`musicpipe ${version}\n`);
    }
  });

  it.skipIf(!built)("a usage error from the bin is one line, exit 2", async () => {
    const r = await promisify(execFile)(process.execPath, [bin, "status", "--root", "/nonexistent"]).catch(
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toMatch(
      /^musicpipe status: --root '\/nonexistent' does not exist \(see musicpipe status --help\)\n$/,
    );
  });
});
