/**
 * A parsed `listen_time`: its UTC calendar date and a canonical form of the instant that two
 * spellings of the same moment share (used to recognise duplicate rows).
 */
export interface ListenTime {
  /** UTC date of the instant, `YYYY-MM-DD`. */
  readonly date: string;
  /** Milliseconds since the Unix epoch (fractions below a millisecond are truncated). */
  readonly epochMs: number;
  /**
   * The instant as `<epoch seconds>.<fraction digits without trailing zeros>`: equal for
   * `2025-06-22 10:00:00`, `2025-06-22T10:00:00.000Z` and `2025-06-22T12:00:00+02:00`.
   */
  readonly instant: string;
}

// YYYY-MM-DD, then a space or T, HH:MM, optional :SS, optional fraction (. or ,), optional zone.
const LISTEN_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

export const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Day number of 0001-01-01, the first listen date there can be. */
export const FIRST_LISTEN_DAY = -719162;
/** Day number of 9999-12-31, the last listen date there can be. */
export const LAST_LISTEN_DAY = 2932896;

/**
 * `YYYY-MM-DD` of a day number (days since 1970-01-01) from 0001-01-01 to 9999-12-31 (the
 * year always has 4 digits); a `RangeError` for any other number, which has no such form.
 */
export function civilFromDays(days: number): string {
  if (!Number.isInteger(days) || days < FIRST_LISTEN_DAY || days > LAST_LISTEN_DAY)
    throw new RangeError(`day number ${days} is not a date from 0001-01-01 to 9999-12-31`);
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** Why a `listen_time` value has no listen date. */
export type ListenTimeFault =
  /** Not one of the accepted forms, or an impossible date, time or offset. */
  | "invalid"
  /** A valid time whose UTC date is before 0001-01-01 or after 9999-12-31. */
  | "out_of_range";

/**
 * Parses a `listen_time` value. Accepted forms (surrounding white space is ignored):
 * `YYYY-MM-DD HH:MM[:SS[.fraction]]` and the ISO 8601 form with `T`, each optionally followed
 * by `Z` or a UTC offset `±HH`, `±HHMM` or `±HH:MM`. A time without a zone is UTC. Returns
 * `undefined` for anything else, including impossible dates (`2025-02-30`), hours past 23,
 * leap seconds, and times whose UTC date is outside 0001-01-01 .. 9999-12-31
 * (`0000-01-01T00:00:00+14:00`, `9999-12-31T23:59:59-12:00`).
 *
 * @example
 * parseListenTime("2025-06-22T23:30:00-02:00")?.date; // "2025-06-23"
 */
export function parseListenTime(value: string): ListenTime | undefined {
  const parsed = readListenTimeOrFault(value);
  return typeof parsed === "string" ? undefined : parsed;
}

/** {@link parseListenTime}, saying why a value has no listen date. */
export function readListenTimeOrFault(value: string): ListenTime | ListenTimeFault {
  const m = LISTEN_TIME.exec(value.trim());
  if (m === null) return "invalid";
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1) return "invalid";
  const monthDays = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > monthDays || hour > 23 || minute > 59 || second > 59) return "invalid";

  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offHours = Number(m[10]);
    const offMinutes = m[11] === undefined ? 0 : Number(m[11]);
    if (offHours > 23 || offMinutes > 59) return "invalid";
    offsetMinutes = (offHours * 60 + offMinutes) * (m[9] === "-" ? -1 : 1);
  }

  const epochSeconds =
    daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  const utcDay = Math.floor(epochSeconds / 86400);
  if (utcDay < FIRST_LISTEN_DAY || utcDay > LAST_LISTEN_DAY) return "out_of_range";
  const fraction = (m[7] ?? "").replace(/0+$/, "");
  const epochMs = epochSeconds * 1000 + Number(fraction.padEnd(3, "0").slice(0, 3));
  return {
    date: civilFromDays(utcDay),
    epochMs,
    instant: fraction === "" ? String(epochSeconds) : `${epochSeconds}.${fraction}`,
  };
}
