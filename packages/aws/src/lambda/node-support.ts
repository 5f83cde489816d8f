/** The Node.js major version from which the AWS SDK for JavaScript v3 supports a release line. */
export const SDK_MIN_NODE_MAJOR = 22;

const SDK_SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/**
 * On Node.js older than {@link SDK_MIN_NODE_MAJOR}, replaces the AWS SDK's own notice (nine
 * lines through `process.emitWarning`, printed when the first client is made) with one line
 * given to `say`, once per process: it sets the SDK's switch,
 * `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED`. Call it before the first SDK client is
 * made. It does nothing on Node.js 22 and later, or when that variable is set already (the
 * choice is then yours). The CLI says the line on stderr, the stage
 * handler logs it as one `warn` record.
 *
 * @returns whether the line was said (now).
 * @example
 * sayNodeSupportOnce((line) => process.stderr.write(`${line}\n`));
 */
export function sayNodeSupportOnce(say: (line: string) => void, version: string = process.version): boolean {
  const major = Number.parseInt(version.replace(/^v/, ""), 10);
  if (!(major < SDK_MIN_NODE_MAJOR) || process.env[SDK_SWITCH] !== undefined) return false;
  process.env[SDK_SWITCH] = "true";
  say(
    `Node.js ${version} is past its end of life: AWS SDK releases after the first week of January 2027 need Node.js ${SDK_MIN_NODE_MAJOR} or later`,
  );
  return true;
}
