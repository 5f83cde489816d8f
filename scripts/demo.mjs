// The quick-start demo: generate sample data into .demo/ and compute its KPIs with the built CLI.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = fileURLToPath(new URL("../packages/cli/dist/bin.js", import.meta.url));
const run = (...args) => spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit" }).status;

rmSync(new URL("../.demo", import.meta.url), { recursive: true, force: true });
if (run("generate", "--out", ".demo", "--streams", "300000", "--days", "7", "--seed", "42") !== 0)
  process.exit(1);
console.log("\n$ musicpipe kpis --root .demo --out .demo/kpis.json");
const status = run("kpis", "--root", ".demo", "--out", ".demo/kpis.json");
// Exit status 1 means a file was rejected: the generated data holds one invalid streams file on purpose.
if (status === 1 && existsSync(new URL("../.demo/kpis.json", import.meta.url))) {
  console.log("\n(The rejected file above is the deliberately invalid one; every other file counted.)");
  process.exit(0);
}
process.exit(status ?? 1);
