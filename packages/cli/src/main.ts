import { MusicpipeError } from "@musicpipe/core";
import { UsageError } from "./args.js";
import { exportCommand, exportUsage } from "./commands/export.js";
import { generateCommand, generateUsage } from "./commands/generate.js";
import { initCommand, initUsage } from "./commands/init.js";
import { kpisCommand, kpisUsage } from "./commands/kpis.js";
import { runCommand, runUsage } from "./commands/run.js";
import { statusCommand, statusUsage } from "./commands/status.js";
import { type CliIo, processIo } from "./io.js";
import { VERSION } from "./version.js";

interface Command {
  readonly summary: string;
  readonly usage: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

const commands: Readonly<Record<string, Command>> = {
  run: {
    summary: "process every streams file of a folder through all stages",
    usage: runUsage,
    run: runCommand,
  },
  export: { summary: "write the stored KPIs as JSON", usage: exportUsage, run: exportCommand },
  status: { summary: "one line per file record", usage: statusUsage, run: statusCommand },
  init: {
    summary: "create the AWS tables if missing and check the bucket",
    usage: initUsage,
    run: initCommand,
  },
  kpis: { summary: "compute the KPIs over local files (no state)", usage: kpisUsage, run: kpisCommand },
  generate: {
    summary: "write realistic synthetic data in the raw layout",
    usage: generateUsage,
    run: generateCommand,
  },
};

const mainUsage = `Usage: musicpipe <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join("\n")}

Run 'musicpipe <command> --help' for a command's options, 'musicpipe --version' for the version.`;

/** An error message on one line, without a repeated `name: ` (library errors often start with it). */
function oneLine(message: string, name: string): string {
  const line = message.replace(/\s*\n\s*/g, " ").trim();
  return line.startsWith(`${name}: `) ? line.slice(name.length + 2) : line;
}

/**
 * Runs the `musicpipe` command line and returns the exit status: 0 ok, 1 a file was rejected
 * (or the run failed), 2 usage or configuration error. Never throws. Errors are one line; a
 * usage error points to the command's `--help` instead of printing the whole usage.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V") {
    io.stdout(`musicpipe ${VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h") {
    (name === undefined ? io.stderr : io.stdout)(`${mainUsage}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "help") {
    const topic = rest[0];
    if (topic === undefined) {
      io.stdout(`${mainUsage}\n`);
      return 0;
    }
    const command = commands[topic];
    if (command === undefined) {
      io.stderr(`musicpipe: unknown command '${topic}' (see musicpipe --help)\n`);
      return 2;
    }
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr(
      `musicpipe: unknown ${name.startsWith("-") ? "option" : "command"} '${name}' (see musicpipe --help)\n`,
    );
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const help = err.pointsToHelp ? ` (see musicpipe ${name} --help)` : "";
      io.stderr(`musicpipe ${name}: ${oneLine(err.message, name)}${help}\n`);
      return 2;
    }
    if (err instanceof MusicpipeError && err.code === "invalid_configuration") {
      io.stderr(`musicpipe ${name}: ${oneLine(err.message, name)}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`musicpipe ${name}: failed: ${oneLine(message, name)}\n`);
    if (process.env.MUSICPIPE_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return 1;
  }
}
