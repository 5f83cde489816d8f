/** A command-line mistake: the CLI prints the message (one line, pointing to `--help`) and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** Whether the message ends by pointing to the command's `--help` (not for a busy folder, say). */
  readonly pointsToHelp: boolean;

  constructor(message: string, options: { readonly pointsToHelp?: boolean } = {}) {
    super(message);
    this.pointsToHelp = options.pointsToHelp ?? true;
  }
}

/** How a flag takes its value. `list` takes every following word up to the next flag. */
export type FlagKind = "string" | "list" | "boolean";

/** Flags a command accepts, by long name without the leading dashes. */
export type FlagSpec = Readonly<Record<string, FlagKind>>;

/** Parsed flags: strings, lists or booleans, by flag name. */
export type ParsedFlags = {
  readonly strings: ReadonlyMap<string, string>;
  readonly lists: ReadonlyMap<string, readonly string[]>;
  readonly booleans: ReadonlySet<string>;
};

/**
 * Parses `--flag value`, `--flag=value`, `--list a b c` and `--switch`. Unknown flags, missing
 * values and stray positional words are usage errors.
 */
export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const strings = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const booleans = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith("--")) throw new UsageError(`unexpected argument '${word}'`);
    const eq = word.indexOf("=");
    const name = word.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option '--${name}'`);
    const inline = eq === -1 ? undefined : word.slice(eq + 1);
    if (kind === "boolean") {
      if (inline !== undefined) throw new UsageError(`option '--${name}' takes no value`);
      booleans.add(name);
      continue;
    }
    const values: string[] = inline === undefined ? [] : [inline];
    if (kind === "list") {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) values.push(argv[++i]!);
    } else if (inline === undefined && i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) {
      values.push(argv[++i]!);
    }
    if (values.length === 0 || values.some((v) => v === ""))
      throw new UsageError(`option '--${name}' needs a value`);
    if (kind === "list") lists.set(name, [...(lists.get(name) ?? []), ...values]);
    else if (strings.has(name)) throw new UsageError(`option '--${name}' is given twice`);
    else strings.set(name, values[0]!);
  }
  return { strings, lists, booleans };
}

/**
 * Reads a whole number flag: digits with optional `_` separators and an optional `k`, `M` or
 * `G` suffix (`10M` is 10,000,000), from `min` to `max`.
 */
export function wholeNumber(
  flags: ParsedFlags,
  name: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = flags.strings.get(name);
  if (raw === undefined) return fallback;
  const m = /^(\d[\d_]*)([kKmMgG]?)$/.exec(raw);
  const scale = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[(m?.[2] ?? "").toLowerCase() as "" | "k" | "m" | "g"];
  const value = m === null ? Number.NaN : Number(m[1]!.replaceAll("_", "")) * scale;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`option '--${name}' must be a whole number ${range}, got '${raw}'`);
  }
  return value;
}

/** Reads a number flag in [min, max]. */
export function boundedNumber(
  flags: ParsedFlags,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = flags.strings.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`option '--${name}' must be a number from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

/** A required string flag. */
export function required(flags: ParsedFlags, name: string): string {
  const value = flags.strings.get(name);
  if (value === undefined) throw new UsageError(`option '--${name}' is required`);
  return value;
}
