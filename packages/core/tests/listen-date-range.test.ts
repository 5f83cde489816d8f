import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CatalogIndex,
  computeKpis,
  computeStreamsPartial,
  FastPathUnsupported,
  type FileReport,
  type KpiPartialState,
  loadCatalog,
  parseListenTime,
  scanStreamsFast,
} from "../src/index.js";
import { readListenTime } from "../src/schema/index.js";
import { civilFromDays, FIRST_LISTEN_DAY, LAST_LISTEN_DAY } from "../src/schema/listen-time.js";
import { memoryFile } from "./helpers.js";

const MAX_ROWS = 8;
const SONGS = `track_id,track_name,track_genre,duration_ms\n${Array.from(
  { length: MAX_ROWS },
  (_, i) => `t${i},Song ${i},pop,1000\n`,
).join("")}`;
const USERS = "user_id,user_name\nu1,Ann\n";

/** What a reader made of one `listen_time`: its listen date, or the code it was dropped with. */
type Outcome = { readonly date: string } | { readonly code: string };

// The white space String.prototype.trim removes, but the two line breaks (they end CSV rows).
const SPACES = [
  " ",
  "\t",
  "\v",
  "\f",
  "\u00a0",
  "\u1680",
  "\u2000",
  "\u2005",
  "\u200a",
  "\u2028",
  "\u2029",
  "\u202f",
  "\u205f",
  "\u3000",
  "\ufeff",
];

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** A generated `listen_time`: its text, and what it must give (worked out with `Date`, not the library). */
interface Case {
  readonly text: string;
  readonly expected: Outcome;
}

const INVALID: Outcome = { code: "invalid_listen_time" };
const OUT_OF_RANGE: Outcome = { code: "listen_date_out_of_range" };

/** Mostly a value from `min` to `max`, now and then one of `odd` (out of range, or an edge). */
const mostly = (min: number, max: number, ...odd: number[]) =>
  fc.oneof(
    { weight: 9, arbitrary: fc.integer({ min, max }) },
    { weight: 1, arbitrary: fc.constantFrom(...odd) },
  );

const date = fc.oneof(
  // The days around both ends of the range and around the epoch.
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      [0, 1, 1],
      [0, 12, 31],
      [0, 2, 29],
      [1, 1, 1],
      [1, 1, 2],
      [1, 12, 31],
      [9999, 1, 1],
      [9999, 12, 30],
      [9999, 12, 31],
      [9998, 12, 31],
      [1969, 12, 31],
      [1970, 1, 1],
      [2024, 2, 29],
      [2025, 2, 29],
      [1900, 2, 29],
      [2000, 2, 29],
    ),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.oneof(
        fc.constantFrom(0, 1, 2, 99, 100, 400, 1969, 1970, 9998, 9999),
        fc.integer({ min: 0, max: 9999 }),
      ),
      mostly(1, 12, 0, 13, 99),
      mostly(1, 28, 0, 29, 30, 31, 32, 99),
    ),
  },
);

const zone = fc.oneof(
  fc.constant({ text: "", minutes: 0, valid: true }),
  fc.constantFrom("Z", "z").map((text) => ({ text, minutes: 0, valid: true })),
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom("+", "-"),
        mostly(0, 23, 0, 1, 12, 14, 23, 24, 99),
        mostly(0, 59, 0, 30, 45, 59, 60, 99),
        fc.constantFrom("hh", "hhmm", "hh:mm"),
      )
      .map(([sign, hours, minutes, form]) => {
        const m = form === "hh" ? 0 : minutes;
        const text =
          form === "hh"
            ? `${sign}${pad(hours, 2)}`
            : `${sign}${pad(hours, 2)}${form === "hh:mm" ? ":" : ""}${pad(minutes, 2)}`;
        return { text, minutes: (sign === "-" ? -1 : 1) * (hours * 60 + m), valid: hours <= 23 && m <= 59 };
      }),
  },
);

const wellFormed = fc
  .record({
    date,
    separator: fc.constantFrom("T", "t", " "),
    hour: mostly(0, 23, 0, 23, 24, 99),
    minute: mostly(0, 59, 0, 59, 60, 99),
    // undefined: HH:MM only.
    second: fc.option(mostly(0, 59, 0, 59, 60, 99), { nil: undefined, freq: 4 }),
    fraction: fc.option(
      fc
        .tuple(
          fc.oneof({ weight: 8, arbitrary: fc.constant(".") }, { weight: 1, arbitrary: fc.constant(",") }),
          fc.oneof(
            { weight: 8, arbitrary: fc.stringMatching(/^\d{1,12}$/) },
            { weight: 1, arbitrary: fc.constant("1234567890123") },
          ),
        )
        .map(([mark, digits]) => ({ mark, digits })),
      { nil: undefined },
    ),
    zone,
    before: fc.array(fc.constantFrom(...SPACES), { maxLength: 2 }),
    after: fc.array(fc.constantFrom(...SPACES), { maxLength: 2 }),
  })
  .map((p): Case => {
    const [year, month, day] = p.date as [number, number, number];
    const fraction = p.second === undefined ? undefined : p.fraction;
    const time = `${pad(p.hour, 2)}:${pad(p.minute, 2)}${
      p.second === undefined
        ? ""
        : `:${pad(p.second, 2)}${fraction === undefined ? "" : `${fraction.mark}${fraction.digits}`}`
    }`;
    const text = `${p.before.join("")}${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${p.separator}${time}${p.zone.text}${p.after.join("")}`;
    // The oracle: a real calendar date and clock time, a valid offset, then Date's UTC date.
    const probe = new Date(0);
    probe.setUTCFullYear(year, month - 1, day);
    const realDate =
      probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
    const second = p.second ?? 0;
    const valid =
      month >= 1 &&
      month <= 12 &&
      realDate &&
      p.hour <= 23 &&
      p.minute <= 59 &&
      second <= 59 &&
      p.zone.valid &&
      (fraction === undefined || fraction.digits.length <= 12);
    if (!valid) return { text, expected: INVALID };
    probe.setUTCHours(p.hour, p.minute - p.zone.minutes, second, 0);
    const utcYear = probe.getUTCFullYear();
    if (utcYear < 1 || utcYear > 9999) return { text, expected: OUT_OF_RANGE };
    return { text, expected: { date: probe.toISOString().slice(0, 10) } };
  });

// Outside the grammar: each of these is invalid whatever the date.
const malformed = fc
  .tuple(
    wellFormed,
    fc.constantFrom(
      (t: string) => t.replace(/^(\s*)(\d{4})/, "$11$2"), // a five-digit year
      (t: string) => t.replace(/^(\s*)\d(\d{3})/, "$1$2"), // a three-digit year
      (t: string) => t.replace(/^(\s*)(\d{4})/, "$1-$2"), // a signed year
      (t: string) => t.replace(/^(\s*\d{4}-\d{2}-\d{2})[Tt ]/, "$1_"), // another separator
      (t: string) => t.replace(/^(\s*\d{4}-\d{2}-\d{2})[Tt ]/, "$1  "), // two spaces
      (t: string) => `${t.trimEnd()}x`, // trailing garbage
      (t: string) => t.replace(/^(\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2})/, "$1.5"), // a fraction without seconds
    ),
  )
  .map(([c, mutate]): Case => ({ text: mutate(c.text), expected: INVALID }));

const caseArb = fc.oneof({ weight: 6, arbitrary: wellFormed }, { weight: 1, arbitrary: malformed });

/** Each row's outcome: kept rows by their track (row i has track `t<i>`), dropped ones by their issue. */
function outcomes(report: FileReport, state: KpiPartialState, rows: number): Outcome[] {
  const result: (Outcome | undefined)[] = Array.from({ length: rows }, () => undefined);
  for (const issue of report.issues) result[issue.row - 1] = { code: issue.code };
  for (const day of state.days)
    for (const genre of day.genres)
      for (const [track] of genre.tracks) result[Number(track.slice(1))] = { date: day.date };
  return result.map((o) => o ?? { code: "missing" });
}

describe("listen dates at and beyond 0001-01-01 .. 9999-12-31 (properties)", () => {
  it("the fast scanner and the general reader give every listen_time the same date or drop code, and the right one", async () => {
    const { catalog } = await loadCatalog({
      songs: [memoryFile("songs.csv", SONGS)],
      users: [memoryFile("users.csv", USERS)],
    });
    const index = new CatalogIndex(catalog);
    const runs = Number(process.env.MUSICPIPE_PROPERTY_RUNS ?? 300);
    let scannedFast = 0;
    let outOfRange = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(caseArb, { minLength: 1, maxLength: MAX_ROWS }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(1, 5, 4096),
        async (cases, timeFirst, crlf, chunk) => {
          const header = timeFirst ? "listen_time,user_id,track_id" : "user_id,track_id,listen_time";
          // A decimal comma must be quoted in CSV: such a file is left to the general reader.
          const field = (text: string) => (text.includes(",") ? `"${text}"` : text);
          const quoted = cases.some((c) => c.text.includes(","));
          const lines = cases.map((c, i) =>
            timeFirst ? `${field(c.text)},u1,t${i}` : `u1,t${i},${field(c.text)}`,
          );
          const eol = crlf ? "\r\n" : "\n";
          const file = memoryFile("s.csv", `${[header, ...lines].join(eol)}${eol}`, chunk);
          const options = { maxBadRowShare: 1 };

          const general = await computeStreamsPartial(await file.open(), file.name, catalog, options);
          const generalOutcomes = outcomes(general.report, general.partial.toState(), cases.length);
          const fast = scanStreamsFast(await file.open(), file.name, index, options);
          if (quoted) await expect(fast).rejects.toBeInstanceOf(FastPathUnsupported);
          else {
            const { report, compact } = await fast;
            expect(outcomes(report, compact.toState(), cases.length)).toEqual(generalOutcomes);
            expect(report).toEqual(general.report);
            scannedFast++;
          }
          const run = await computeKpis(
            {
              streams: [file],
              songs: [memoryFile("songs.csv", SONGS)],
              users: [memoryFile("users.csv", USERS)],
            },
            options,
          );
          expect(run.files.at(-1)).toEqual(general.report);
          expect(run.partial.toState()).toEqual(general.partial.toState());
          expect(generalOutcomes).toEqual(cases.map((c) => c.expected));
          outOfRange += cases.filter((c) => c.expected === OUT_OF_RANGE).length;
          for (const o of generalOutcomes) if ("date" in o) expect(o.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        },
      ),
      { numRuns: runs },
    );
    // The generator reaches both: files the fast scanner reads itself, and dates beyond the range.
    expect(scannedFast).toBeGreaterThan(runs / 3);
    expect(outOfRange).toBeGreaterThan(runs / 10);
  });
});

describe("listen dates outside 0001-01-01 .. 9999-12-31", () => {
  it("drops the two reported times with listen_date_out_of_range", () => {
    for (const value of ["0000-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]) {
      expect(parseListenTime(value)).toBeUndefined();
      expect(readListenTime(value)).toMatchObject({ code: "listen_date_out_of_range" });
    }
  });

  it("keeps the first and the last day, with four-digit years", () => {
    expect(parseListenTime("0001-01-01T00:00:00Z")?.date).toBe("0001-01-01");
    expect(parseListenTime("0000-12-31T23:00:00-01:00")?.date).toBe("0001-01-01");
    expect(parseListenTime("0001-01-01T10:00:00+10:00")?.date).toBe("0001-01-01");
    expect(parseListenTime("9999-12-31 23:59:59.999999")?.date).toBe("9999-12-31");
    expect(parseListenTime("9999-12-31T12:00:00-11:59")?.date).toBe("9999-12-31");
    expect(parseListenTime("0099-03-01 00:00:00")?.date).toBe("0099-03-01");
    expect(readListenTime("0001-01-01T09:59:59+10:00")).toMatchObject({ code: "listen_date_out_of_range" });
    expect(readListenTime("0000-01-01 00:00:00")).toMatchObject({ code: "listen_date_out_of_range" });
    expect(readListenTime("0000-02-30 00:00:00")).toMatchObject({ code: "invalid_listen_time" });
  });

  it("formats day numbers of the range only", () => {
    expect(civilFromDays(FIRST_LISTEN_DAY)).toBe("0001-01-01");
    expect(civilFromDays(LAST_LISTEN_DAY)).toBe("9999-12-31");
    expect(civilFromDays(-719162 + 365)).toBe("0002-01-01");
    expect(() => civilFromDays(FIRST_LISTEN_DAY - 1)).toThrow(RangeError);
    expect(() => civilFromDays(LAST_LISTEN_DAY + 1)).toThrow(RangeError);
    expect(() => civilFromDays(Number.NaN)).toThrow(RangeError);
  });

  it("computeKpis drops them with the code on the fast and the general path alike", async () => {
    const text =
      "user_id,track_id,listen_time\nu1,t0,0000-01-01T00:00:00+14:00\nu1,t1,9999-12-31T23:59:59-12:00\nu1,t2,0001-01-01 00:00:00\nu1,t3,9999-12-31t23:59:59z\n";
    const input = {
      streams: [memoryFile("s.csv", text)],
      songs: [memoryFile("songs.csv", SONGS)],
      users: [memoryFile("users.csv", USERS)],
    };
    for (const fastPath of [true, false]) {
      const run = await computeKpis(input, { fastPath, maxBadRowShare: 1 });
      const streams = run.files.find((f) => f.kind === "streams")!;
      expect(streams.badRowsByCode).toEqual({ listen_date_out_of_range: 2 });
      expect(streams.issues.map((i) => [i.row, i.column, i.code])).toEqual([
        [1, "listen_time", "listen_date_out_of_range"],
        [2, "listen_time", "listen_date_out_of_range"],
      ]);
      expect(run.kpis.genreStats.map((g) => g.listenDate)).toEqual(["0001-01-01", "9999-12-31"]);
    }
  });
});
