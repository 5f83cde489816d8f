// The state of the process's own output streams, in a module without imports so the bin can
// set it up before it loads the rest of the program.

let stdoutOpen = true;
let stderrOpen = true;
let stdoutFailure: string | undefined;

/** Writes to stdout, unless it was closed (or failed); then the text is dropped. */
export function writeStdout(text: string): void {
  if (stdoutOpen) process.stdout.write(text);
}

/** Writes to stderr, unless it was closed; then the text is dropped. */
export function writeStderr(text: string): void {
  if (stderrOpen) process.stderr.write(text);
}

function errorCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null ? (err as { code?: string }).code : undefined;
}

/**
 * Makes a closed stdout (EPIPE, as in `musicpipe status | head -1`) a normal end of the output:
 * the rest of it is dropped, nothing is printed, and the command finishes with its own exit
 * status. A closed stderr is treated the same way. Any other write error on stdout (a full disk)
 * is reported in one line on stderr and makes the exit status at least 1.
 *
 * Returns the exit status to use given the command's.
 */
export function guardProcessOutput(): (code: number) => number {
  process.stdout.on("error", (err: unknown) => {
    stdoutOpen = false;
    if (errorCode(err) === "EPIPE" || stdoutFailure !== undefined) return;
    stdoutFailure = err instanceof Error ? err.message : String(err);
    writeStderr(`musicpipe: cannot write to stdout: ${stdoutFailure}\n`);
  });
  process.stderr.on("error", () => {
    stderrOpen = false;
  });
  return (code) => (stdoutFailure === undefined ? code : Math.max(code, 1));
}
