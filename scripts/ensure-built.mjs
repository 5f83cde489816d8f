// Builds the workspace (`pnpm -r build`) only when a build input is newer than the oldest
// build output, or an output folder is missing. `pnpm install` builds once (`prepare`); the
// quick start's `demo` and `test` then start at once instead of building a second time, and
// after an edit they still run on a fresh build.
//
// Inputs: each built package's src/, tsup.config.ts and package.json. The comparison is across
// the whole workspace because the example Lambdas bundle the packages: a change in core makes
// every dist/ stale.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** mtimes (ms) of every file under `dir`, recursively. */
function mtimes(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...mtimes(path));
    else if (entry.isFile()) out.push(statSync(path).mtimeMs);
  }
  return out;
}

function builtPackages() {
  const dirs = [];
  for (const group of ["packages", "examples"]) {
    for (const name of readdirSync(join(root, group))) {
      const dir = join(root, group, name);
      if (existsSync(join(dir, "tsup.config.ts"))) dirs.push(dir);
    }
  }
  return dirs;
}

function stale() {
  let newestInput = 0;
  let oldestOutput = Number.POSITIVE_INFINITY;
  for (const dir of builtPackages()) {
    const dist = join(dir, "dist");
    if (!existsSync(dist)) return `${dist} is missing`;
    const outputs = mtimes(dist);
    if (outputs.length === 0) return `${dist} is empty`;
    oldestOutput = Math.min(oldestOutput, ...outputs);
    const inputs = [
      ...mtimes(join(dir, "src")),
      statSync(join(dir, "tsup.config.ts")).mtimeMs,
      statSync(join(dir, "package.json")).mtimeMs,
    ];
    newestInput = Math.max(newestInput, ...inputs);
  }
  return newestInput > oldestOutput ? "sources changed since the last build" : undefined;
}

const reason = stale();
if (reason !== undefined) {
  console.error(`Building the packages (${reason}) ...`);
  // The pnpm that runs this script (npm_execpath: a script or pnpm's own executable), or the
  // pinned one through npx when the script runs on its own.
  const execPath = process.env.npm_execpath;
  const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager;
  const [command, args] =
    execPath === undefined
      ? ["npx", ["-y", pinned, "-r", "build"]]
      : /\.[cm]?js$/.test(execPath)
        ? [process.execPath, [execPath, "-r", "build"]]
        : [execPath, ["-r", "build"]];
  const { status, error } = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (error !== undefined) {
    console.error(`Could not start ${command}: ${error.message}`);
    process.exit(1);
  }
  if (status !== 0) process.exit(status ?? 1);
}
