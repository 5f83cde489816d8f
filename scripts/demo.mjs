// The quick-start demo: generate sample data into .demo/, compute its KPIs statelessly, then run
// the whole pipeline over the same folder and check that the stored KPIs are the same.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = fileURLToPath(new URL("../packages/cli/dist/bin.js", import.meta.url));
const demo = (path) => fileURLToPath(new URL(`../.demo/${path}`, import.meta.url));

/** Runs the CLI; exit status 1 ("a file was rejected") is expected: the data holds one invalid file on purpose. */
function musicpipe(...args) {
  console.log(`\n$ musicpipe ${args.join(" ")}`);
  const { status } = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit" });
  if (status !== 0 && status !== 1) process.exit(status ?? 1);
}

rmSync(demo(""), { recursive: true, force: true });
musicpipe("generate", "--out", ".demo", "--streams", "300000", "--days", "7", "--seed", "42");
musicpipe("kpis", "--root", ".demo", "--out", ".demo/kpis.json", "--quiet");
musicpipe("run", "--root", ".demo", "--quiet");
musicpipe("export", "--root", ".demo", "--out", ".demo/export.json");
const same = readFileSync(demo("kpis.json"), "utf8") === readFileSync(demo("export.json"), "utf8");
console.log(
  same
    ? "\nThe pipeline's stored KPIs equal the stateless computation, byte for byte (.demo/export.json = .demo/kpis.json)."
    : "\nMISMATCH: .demo/export.json differs from .demo/kpis.json",
);
console.log(
  "The invalid streams file was moved to .demo/data/error/; the others are under .demo/data/archive/.",
);
process.exit(same ? 0 : 1);
