import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The packages as users get them: packed by pnpm (what `pnpm publish` uploads), unpacked into
// a scratch project's node_modules, their dependencies linked from this workspace's install
// (no network). Consumers there call every entry point from ESM and CommonJS, and TypeScript
// (nodenext, strict) type-checks both module kinds against the packed declarations.

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../..", import.meta.url));
const PACKAGES = ["core", "memory", "aws", "cli"] as const;
const built = PACKAGES.every((p) => existsSync(join(repo, "packages", p, "dist", "index.cjs")));
/** pnpm: the one running the tests (`pnpm test`), or the pinned version through npx. */
const pnpm = (args: string[], cwd: string) => {
  const execPath = process.env.npm_execpath;
  if (execPath === undefined || !/pnpm/.test(execPath))
    return run("npx", ["-y", "pnpm@12.4.2", ...args], { cwd });
  // A script (run with node) or pnpm's own executable.
  return /\.[cm]?js$/.test(execPath)
    ? run(process.execPath, [execPath, ...args], { cwd })
    : run(execPath, args, { cwd });
};

let scratch = "";

/** Links `name` into the scratch project, resolved from where the workspace package `from` finds it. */
function linkDependency(name: string, from: string): void {
  const target = join(scratch, "node_modules", name);
  if (existsSync(target)) return;
  const candidates = [join(repo, "packages", from, "node_modules", name), join(repo, "node_modules", name)];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) return; // an optional peer this workspace does not install
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(realpathSync(found), target, "dir");
}

beforeAll(async () => {
  if (!built) return;
  scratch = mkdtempSync(join(tmpdir(), "musicpipe-packed-"));
  const tarballs = join(scratch, "tarballs");
  mkdirSync(tarballs);
  for (const p of PACKAGES) await pnpm(["pack", "--pack-destination", tarballs], join(repo, "packages", p));
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  for (const tarball of readdirSync(tarballs)) {
    const name = /^musicpipe-(\w+)-/.exec(tarball)?.[1];
    if (name === undefined) continue;
    const into = join(scratch, "node_modules", "@musicpipe", name);
    mkdirSync(into, { recursive: true });
    await run("tar", ["-xzf", join(tarballs, tarball), "-C", into, "--strip-components=1"]);
    const manifest = JSON.parse(readFileSync(join(into, "package.json"), "utf8"));
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }))
      if (!dep.startsWith("@musicpipe/")) linkDependency(dep, name);
  }
  linkDependency("@types/node", "core");
  cpSync(join(repo, "tests", "packed", "consumer"), scratch, { recursive: true });
  // The same calls type-checked as CommonJS: a .cts file resolves through the `require` conditions.
  writeFileSync(join(scratch, "typed.cts"), readFileSync(join(scratch, "typed.mts")));
}, 180_000);

afterAll(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!built)("the packed packages in a project of their own", () => {
  it("carry what their manifests promise and no workspace references", () => {
    for (const p of PACKAGES) {
      const dir = join(scratch, "node_modules", "@musicpipe", p);
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      expect(JSON.stringify(manifest)).not.toContain("workspace:");
      for (const f of ["LICENSE", "README.md"]) expect(existsSync(join(dir, f)), `${p}: ${f}`).toBe(true);
      expect(manifest.license).toBe("MIT");
      const targets: string[] = JSON.stringify(manifest.exports).match(/"\.\/dist\/[^"]+"/g) ?? [];
      expect(targets.length).toBeGreaterThan(0);
      for (const t of targets) expect(existsSync(join(dir, JSON.parse(t))), `${p}: ${t}`).toBe(true);
    }
  });

  it("work alike from ESM and from CommonJS, every entry point called", async () => {
    const esm = JSON.parse((await run(process.execPath, ["esm.mjs"], { cwd: scratch })).stdout);
    const cjs = JSON.parse((await run(process.execPath, ["cjs.cjs"], { cwd: scratch })).stdout);
    expect(cjs).toEqual(esm);
    const genres = [{ listenDate: "2025-06-22", rank: 1, genre: "pop", listenCount: 1 }];
    expect(esm["@musicpipe/core computeKpis"]).toEqual(genres);
    expect(esm["@musicpipe/core/parallel computeKpisParallel"]).toEqual(genres);
    expect(esm["@musicpipe/core runPending"]).toEqual([["data/raw/streams/s.csv", "archived"]]);
    expect(esm["@musicpipe/aws batchWriteAll"]).toBe(1);
    expect(esm["@musicpipe/aws/dynamodb batchWriteAll"]).toBe(1);
    expect(esm["@musicpipe/aws/s3 createS3ObjectStore"]).toEqual(["p/a.csv"]);
    expect(esm["@musicpipe/memory/local createLocalObjectStore"]).toEqual(["a/b.csv"]);
    expect(esm["@musicpipe/memory/conformance"]).toBe("function");
    expect(esm["@musicpipe/aws/metrics createEmfMetrics"]).toBe("Consumer");
    expect(esm["@musicpipe/cli main"]).toEqual([0, expect.stringMatching(/^musicpipe \d+\.\d+\.\d+/)]);
    expect(Object.keys(esm)).toHaveLength(14);
  }, 120_000);

  it("type-check in TypeScript (nodenext, strict) as ES module and as CommonJS", async () => {
    const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: scratch }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }),
    );
    expect(result.stdout).toBe("");
  }, 120_000);
});
