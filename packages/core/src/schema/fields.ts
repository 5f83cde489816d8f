// The rules of the fields, without zod: the fast readers (and their worker threads) use these.
import { type ListenTime, readListenTimeOrFault } from "./listen-time.js";

/** A field's problem: a row-issue code and a message (without the column name). */
export interface FieldProblem {
  readonly code: string;
  readonly message: string;
}

const NUMBER_LIKE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const EMPTY: FieldProblem = { code: "empty_field", message: "is empty" };

/** A value cut to 40 characters for a message. */
export function clipValue(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}...` : value;
}

export function isProblem(value: unknown): value is FieldProblem {
  return typeof value === "object" && value !== null && "code" in value;
}

/**
 * The field rules, shared by the zod schemas below and by the fast readers (which must report
 * exactly what the schemas report). A key field may not be empty or white space only.
 */
export function keyProblem(value: string): FieldProblem | undefined {
  return value.trim() === "" ? EMPTY : undefined;
}

/** `track_genre`: not empty and not a number (a shifted column in the source often puts one there). */
export function genreProblem(value: string): FieldProblem | undefined {
  const t = value.trim();
  if (t === "") return EMPTY;
  return NUMBER_LIKE.test(t)
    ? { code: "invalid_genre", message: `'${clipValue(value)}' is a number, not a genre` }
    : undefined;
}

/** `duration_ms`: a whole number of milliseconds, 0 or more, written with digits only. */
export function readDurationMs(value: string): number | FieldProblem {
  const t = value.trim();
  const n = /^\+?\d+$/.test(t) ? Number(t) : Number.NaN;
  return Number.isSafeInteger(n)
    ? n
    : {
        code: "invalid_duration_ms",
        message: `'${clipValue(value)}' is not a whole number of milliseconds >= 0`,
      };
}

/**
 * `listen_time`: see {@link parseListenTime} for the accepted forms. A valid time whose UTC date
 * is outside 0001-01-01 .. 9999-12-31 is `listen_date_out_of_range` (its date has no
 * `YYYY-MM-DD` form); anything else that is not accepted is `invalid_listen_time`.
 */
export function readListenTime(value: string): ListenTime | FieldProblem {
  if (value.trim() === "") return EMPTY;
  const parsed = readListenTimeOrFault(value);
  if (parsed === "invalid")
    return { code: "invalid_listen_time", message: `'${clipValue(value)}' is not a valid listen time` };
  if (parsed === "out_of_range")
    return {
      code: "listen_date_out_of_range",
      message: `'${clipValue(value)}' is a listen date outside 0001-01-01 .. 9999-12-31 (UTC)`,
    };
  return parsed;
}
