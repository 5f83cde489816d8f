import {
  boundedNumber,
  type FlagSpec,
  type ParsedFlags,
  parseFlags,
  required,
  UsageError,
  wholeNumber,
} from "../args.js";
import { GENERATE_LIMITS, generateDataset, MAX_SKEW } from "../generate/index.js";
import { type CliIo, checkOutputFolder, n } from "../io.js";

export const generateUsage = `Usage: musicpipe generate --out DIR [--streams N] [--days D] [--seed S]

Writes realistic synthetic data in the raw layout: DIR/data/raw/songs/songs.csv (the 21 columns
of the public Spotify tracks dataset), DIR/data/raw/users/users.csv, and streams files
DIR/data/raw/streams/streams1.csv ... with Zipf-skewed popularity, a few unknown ids and exact
duplicates, plus one invalid streams file (streams_invalid.csv, no track_id column). The same
options always write the same bytes.

Options:
  --out DIR           root folder (required)
  --streams N         stream rows in the valid streams files (default 100000; 10M = 10000000)
  --days D            consecutive listen dates (default 7)
  --seed S            random seed (default 1)
  --songs N           songs in the catalog (default: streams/20, from 200 to 114000)
  --users N           users (default: streams/50, from 100 to 50000)
  --files N           valid streams files (default: one per million rows)
  --track-skew X      Zipf exponent of track popularity, 0 = uniform (default 1.1)
  --user-skew X       Zipf exponent of user activity, 0 = uniform (default 0.7)
  --start-date DATE   first listen date, YYYY-MM-DD (default 2025-06-22)
  --gzip              write streams files as .csv.gz
  --quiet             no progress on stderr`;

const spec: FlagSpec = {
  out: "string",
  streams: "string",
  days: "string",
  seed: "string",
  songs: "string",
  users: "string",
  files: "string",
  "track-skew": "string",
  "user-skew": "string",
  "start-date": "string",
  gzip: "boolean",
  quiet: "boolean",
};

const LAST_DAY = Date.UTC(9999, 11, 31);

/** `--start-date`: a real calendar date, with the `days` listen dates all by 9999-12-31. */
function startDateFlag(flags: ParsedFlags, days: number): string | undefined {
  const value = flags.strings.get("start-date");
  if (value === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m === null ? Number.NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw new UsageError(`option '--start-date' must be a date YYYY-MM-DD, got '${value}'`);
  }
  if (ms + (days - 1) * 86_400_000 > LAST_DAY) {
    throw new UsageError(`option '--start-date' with '--days ${days}' goes past 9999-12-31`);
  }
  return value;
}

/** `musicpipe generate`: returns the exit status. */
export async function generateCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(argv, spec);
  const optional = (name: "songs" | "users" | "files") =>
    flags.strings.has(name) ? { [name]: wholeNumber(flags, name, 0, ...GENERATE_LIMITS[name]) } : {};
  const skew = (name: string) => boundedNumber(flags, name, 0, 0, MAX_SKEW);
  const out = required(flags, "out");
  const days = wholeNumber(flags, "days", 7, ...GENERATE_LIMITS.days);
  const options = {
    out,
    streams: wholeNumber(flags, "streams", 100_000, 1, GENERATE_LIMITS.streams[1]),
    days,
    seed: wholeNumber(flags, "seed", 1, 0),
    ...optional("songs"),
    ...optional("users"),
    ...optional("files"),
    ...(flags.strings.has("track-skew") ? { trackSkew: skew("track-skew") } : {}),
    ...(flags.strings.has("user-skew") ? { userSkew: skew("user-skew") } : {}),
  };
  const startDate = startDateFlag(flags, days);
  await checkOutputFolder(out);
  const quiet = flags.booleans.has("quiet");
  let lastReport = 0;
  const started = performance.now();
  const result = await generateDataset({
    ...options,
    ...(startDate === undefined ? {} : { startDate }),
    gzip: flags.booleans.has("gzip"),
    ...(quiet
      ? {}
      : {
          onProgress: ({ rowsWritten, rowsTotal }: { rowsWritten: number; rowsTotal: number }) => {
            const now = performance.now();
            if (now - lastReport < 2000 && rowsWritten < rowsTotal) return;
            lastReport = now;
            io.stderr(`generate: ${n(rowsWritten)} of ${n(rowsTotal)} stream rows\n`);
          },
        }),
  });
  const seconds = (performance.now() - started) / 1000;
  const bytes = result.files.reduce((a, f) => a + f.bytes, 0);
  io.stdout(
    `${result.files.map((f) => `${f.kind.padEnd(7)} ${f.path}  ${n(f.rows)} rows${f.valid ? "" : "  (invalid on purpose)"}`).join("\n")}\n` +
      `Wrote ${n(result.files.length)} files, ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s\n`,
  );
  return 0;
}
