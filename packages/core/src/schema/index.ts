import { z } from "zod";
import {
  type FieldProblem,
  genreProblem,
  isProblem,
  keyProblem,
  readDurationMs,
  readListenTime,
} from "./fields.js";

export {
  clipValue,
  type FieldProblem,
  genreProblem,
  keyProblem,
  readDurationMs,
  readListenTime,
} from "./fields.js";
export { type ListenTime, type ListenTimeFault, parseListenTime } from "./listen-time.js";

/** The three kinds of input file. */
export type FileKind = "streams" | "songs" | "users";

/**
 * Adds a row issue with a machine `code` from inside a zod check or transform. Row issues
 * raised this way keep their code in validation reports; any other zod issue is reported as
 * `invalid_value`.
 *
 * @example
 * const device = z.string().transform((v, ctx) => v === "tv" ? v : addRowIssue(ctx, "bad_device", "is not a TV"));
 */
export function addRowIssue(ctx: z.RefinementCtx, code: string, message: string): never {
  ctx.addIssue({ code: "custom", message, params: { code } });
  return z.NEVER;
}

/** A zod transform from a rule: the value it reads, or its problem as a row issue. */
function field<T>(
  rule: (value: string) => T | FieldProblem,
): z.ZodPipe<z.ZodString, z.ZodTransform<T, string>> {
  return z.string().transform((v, ctx): T => {
    const read = rule(v);
    return isProblem(read) ? addRowIssue(ctx, read.code, read.message) : read;
  });
}

/** A key field: any string that is not empty or white space only. Kept verbatim. */
export const keyField = field((v) => keyProblem(v) ?? v);
/**
 * `listen_time`: see {@link parseListenTime} for the accepted forms. Row issues
 * `invalid_listen_time`, and `listen_date_out_of_range` for a UTC date outside
 * 0001-01-01 .. 9999-12-31.
 */
export const listenTimeField = field(readListenTime);
/** `duration_ms`: a whole number of milliseconds, 0 or more, written with digits only. */
export const durationField = field(readDurationMs);
/** `track_genre`: not empty and not a number. Kept verbatim. */
export const genreField = field((v) => genreProblem(v) ?? v);

/** Row schema of a streams file. */
export const streamRow = z.object({ user_id: keyField, track_id: keyField, listen_time: listenTimeField });
/** Row schema of a songs file (extra Spotify columns are allowed; `artists` is kept when present). */
export const songRow = z.object({
  track_id: keyField,
  track_name: z.string(),
  track_genre: genreField,
  duration_ms: durationField,
  artists: z.string().optional(),
});
/** Row schema of a users file. */
export const userRow = z.object({ user_id: keyField, user_name: z.string() });

/** A cleaned streams row. */
export type StreamRow = z.output<typeof streamRow>;
/** A cleaned songs row. */
export type SongRow = z.output<typeof songRow>;
/** A cleaned users row. */
export type UserRow = z.output<typeof userRow>;

/**
 * The schema of one kind of file: a zod object whose keys are the column names. Keys whose
 * schema accepts `undefined` are optional columns; all others are required.
 */
export interface TableSchema<Row extends z.ZodObject = z.ZodObject> {
  readonly kind: FileKind;
  readonly row: Row;
  /** Columns a file of this kind must have in its header. */
  readonly requiredColumns: readonly string[];
  /** Columns read when present. */
  readonly optionalColumns: readonly string[];
}

/**
 * Builds a {@link TableSchema} from a zod object. Use it to extend the built-in schemas with
 * extra required columns or your own checks.
 *
 * @example
 * const streams = defineTableSchema("streams", streamsSchema.row.extend({ device: keyField }));
 */
export function defineTableSchema<Row extends z.ZodObject>(kind: FileKind, row: Row): TableSchema<Row> {
  const requiredColumns: string[] = [];
  const optionalColumns: string[] = [];
  for (const [column, field] of Object.entries(row.shape)) {
    ((field as z.ZodType).safeParse(undefined).success ? optionalColumns : requiredColumns).push(column);
  }
  return { kind, row, requiredColumns, optionalColumns };
}

/** The built-in streams schema: `user_id`, `track_id`, `listen_time`. */
export const streamsSchema = defineTableSchema("streams", streamRow);
/** The built-in songs schema: `track_id`, `track_name`, `track_genre`, `duration_ms` (+ `artists`). */
export const songsSchema = defineTableSchema("songs", songRow);
/** The built-in users schema: `user_id`, `user_name`. */
export const usersSchema = defineTableSchema("users", userRow);
