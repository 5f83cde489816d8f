// Runs a Node script in this process and, at exit, writes the process's peak resident set size
// (KiB, worker threads included) to the file named by BENCH_RSS_OUT.
//   BENCH_RSS_OUT=f node bench/rss.mjs SCRIPT ARGS...
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [script, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], resolve(script), ...args];
process.on("exit", () => writeFileSync(process.env.BENCH_RSS_OUT, String(process.resourceUsage().maxRSS)));
await import(pathToFileURL(resolve(script)).href);
