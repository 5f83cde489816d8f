import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  addRowIssue,
  computeKpis,
  defineTableSchema,
  type FileReport,
  keyField,
  type RowVerdict,
  scanTable,
  songsSchema,
  streamsSchema,
  type TableSchema,
  usersSchema,
} from "../src/index.js";
import { memoryFile, SONGS, USERS } from "./helpers.js";

async function scan(
  content: string,
  schema: TableSchema = streamsSchema,
  onRow: () => RowVerdict = () => undefined,
  options = {},
): Promise<FileReport> {
  return scanTable(
    memoryFile("f.csv", content, 5).open() as Iterable<Uint8Array>,
    "f.csv",
    schema,
    onRow,
    options,
  );
}

describe("file rejection", () => {
  it("rejects an empty file", async () => {
    expect((await scan("")).rejection?.code).toBe("empty_file");
    expect((await scan("\n\n  \n")).rejection?.code).toBe("empty_file");
  });

  it("rejects a header-only file", async () => {
    const report = await scan("user_id,track_id,listen_time\n\n");
    expect(report.accepted).toBe(false);
    expect(report.rejection?.code).toBe("header_only");
  });

  it("rejects a missing required column and names every missing one", async () => {
    const report = await scan("user_id,listen_time\nu1,2025-06-22 10:00:00\n");
    expect(report.rejection).toMatchObject({ code: "missing_column", columns: ["track_id"] });
    expect(report.rejection?.message).toMatch(/^f\.csv: missing required column 'track_id'/);
    expect((await scan("x\n1\n", songsSchema)).rejection?.columns).toEqual([
      "track_id",
      "track_name",
      "track_genre",
      "duration_ms",
    ]);
  });

  it("matches header names trimmed and case-sensitively", async () => {
    expect((await scan(" user_id , track_id ,listen_time\nu,t,2025-06-22 10:00:00\n")).accepted).toBe(true);
    expect((await scan("User_Id,track_id,listen_time\nu,t,2025-06-22 10:00:00\n")).rejection?.code).toBe(
      "missing_column",
    );
  });

  it("rejects a schema column that appears twice in the header", async () => {
    const report = await scan("user_id,track_id,listen_time,track_id\nu,t,2025-06-22 10:00:00,t\n");
    expect(report.rejection).toMatchObject({ code: "duplicate_column", columns: ["track_id"] });
  });

  it("accepts extra columns in any order", async () => {
    const seen: unknown[] = [];
    const schema = streamsSchema;
    await scanTable(
      memoryFile(
        "f",
        "device,listen_time,track_id,x,user_id\ntv,2025-06-22 10:00:00,t1,,u1\n",
      ).open() as Iterable<Uint8Array>,
      "f",
      schema,
      (row) => {
        seen.push([row.user_id, row.track_id, row.listen_time.date]);
        return undefined;
      },
    );
    expect(seen).toEqual([["u1", "t1", "2025-06-22"]]);
  });

  it("rejects a file whose bad-row share exceeds the threshold, not one at it", async () => {
    const rows = (bad: number, good: number) =>
      `user_id,track_id,listen_time\n${"u,t,never\n".repeat(bad)}${"u,t,2025-06-22 10:00:00\n".repeat(good)}`;
    const atLimit = await scan(rows(1, 9));
    expect(atLimit.accepted).toBe(true);
    expect(atLimit.badRows).toBe(1);
    const over = await scan(rows(2, 9));
    expect(over.rejection?.code).toBe("too_many_bad_rows");
    expect(over.rejection?.message).toContain("2 of 11 rows are bad");
    expect((await scan(rows(2, 9), streamsSchema, () => undefined, { maxBadRowShare: 0.5 })).accepted).toBe(
      true,
    );
  });

  it("turns CSV format errors into a rejection instead of throwing", async () => {
    expect((await scan('user_id,track_id,listen_time\nu,"t,2025-06-22 10:00:00\n')).rejection?.code).toBe(
      "malformed_csv",
    );
    expect(
      (
        await scan(`user_id,track_id,listen_time\nu,${"t".repeat(300)},x\n`, streamsSchema, () => undefined, {
          maxRowBytes: 100,
        })
      ).rejection?.code,
    ).toBe("row_too_large");
  });
});

describe("bad rows", () => {
  const header = "user_id,track_id,listen_time\n";
  const ok = "u1,t1,2025-06-22 10:00:00\n".repeat(20);

  it.each([
    ["empty user_id", ",t1,2025-06-22 10:00:00", "empty_field", "user_id"],
    ["white-space track_id", "u1,  ,2025-06-22 10:00:00", "empty_field", "track_id"],
    ["empty listen_time", "u1,t1,", "empty_field", "listen_time"],
    ["unparseable listen_time", "u1,t1,yesterday", "invalid_listen_time", "listen_time"],
    ["impossible date", "u1,t1,2025-02-30 10:00:00", "invalid_listen_time", "listen_time"],
    ["too few fields", "u1,t1", "column_count", undefined],
    ["too many fields", "u1,t1,2025-06-22 10:00:00,x", "column_count", undefined],
  ])("drops a row with %s, with its code, row number and column", async (_, row, code, column) => {
    const report = await scan(`${header}${ok}${row}\n`);
    expect(report.accepted).toBe(true);
    expect(report.badRowsByCode).toEqual({ [code]: 1 });
    expect(report.issues[0]).toMatchObject({
      code,
      row: 21,
      line: 22,
      ...(column === undefined ? {} : { column }),
    });
    expect(report.issues[0]?.message).toMatch(/^row 21 \(line 22\): /);
    expect(report.rowsKept).toBe(20);
  });

  it("ignores rows whose every field is empty", async () => {
    const report = await scan(`${header}u1,t1,2025-06-22 10:00:00\n,,\n , ,\n`);
    expect(report).toMatchObject({ rowsRead: 1, badRows: 0 });
  });

  it("checks songs: integer duration_ms >= 0 and a non-numeric genre", async () => {
    const songs = "track_id,track_name,track_genre,duration_ms\n";
    const good = "t,Name,pop,1000\n".repeat(30);
    for (const [row, code] of [
      ["t,N,pop,-5", "invalid_duration_ms"],
      ["t,N,pop,1.5", "invalid_duration_ms"],
      ["t,N,pop,", "invalid_duration_ms"],
      ["t,N,pop,abc", "invalid_duration_ms"],
      ["t,N,123,1000", "invalid_genre"],
      ["t,N,1.5e3,1000", "invalid_genre"],
      ["t,N,,1000", "empty_field"],
      [",N,pop,1000", "empty_field"],
    ] as const) {
      expect((await scan(`${songs}${good}${row}\n`, songsSchema)).badRowsByCode, row).toEqual({ [code]: 1 });
    }
    expect((await scan(`${songs}t,,k-pop,0\n`, songsSchema)).badRows).toBe(0);
  });

  it("checks users: a non-empty user_id; user_name may be empty", async () => {
    const report = await scan(`user_id,user_name\nu1,\n,Name\n${"u,n\n".repeat(20)}`, usersSchema);
    expect(report.badRowsByCode).toEqual({ empty_field: 1 });
  });

  it("keeps only the first issues but counts them all", async () => {
    const report = await scan(
      `${header}${"u1,t1,2025-06-22 10:00:00\n".repeat(1000)}${",t,x\n".repeat(50)}`,
      streamsSchema,
      () => undefined,
      { maxIssues: 10 },
    );
    expect(report.badRows).toBe(50);
    expect(report.issues).toHaveLength(10);
  });
});

describe("extending the schemas", () => {
  const header = "user_id,track_id,listen_time";
  it("requires an extra column and applies its check with its own code", async () => {
    const withDevice = defineTableSchema(
      "streams",
      streamsSchema.row.extend({
        device: z
          .string()
          .transform((v, ctx) =>
            ["tv", "phone"].includes(v)
              ? v
              : addRowIssue(ctx, "unknown_device", `'${v}' is not a known device`),
          ),
      }),
    );
    expect(withDevice.requiredColumns).toEqual(["user_id", "track_id", "listen_time", "device"]);
    expect((await scan(`${header}\nu,t,2025-06-22 10:00:00\n`, withDevice)).rejection?.columns).toEqual([
      "device",
    ]);
    const rows = `${"u,t,2025-06-22 10:00:00,tv\n".repeat(20)}u,t,2025-06-22 10:00:00,radio\n`;
    const report = await scan(`${header},device\n${rows}`, withDevice);
    expect(report.badRowsByCode).toEqual({ unknown_device: 1 });
    expect(report.issues[0]?.message).toContain("'radio' is not a known device");
  });

  it("reports a plain zod failure of a custom column as invalid_value", async () => {
    const schema = defineTableSchema("users", usersSchema.row.extend({ age: z.string().regex(/^\d+$/) }));
    const report = await scan(`user_id,user_name,age\n${"u,n,30\n".repeat(20)}u,n,old\n`, schema);
    expect(report.issues[0]).toMatchObject({ code: "invalid_value", column: "age" });
  });

  it("uses a custom schema in computeKpis", async () => {
    const strict = defineTableSchema("streams", streamsSchema.row.extend({ device: keyField }));
    const run = await computeKpis(
      {
        streams: [memoryFile("s.csv", "user_id,track_id,listen_time\nu1,t1,2025-06-22 10:00:00\n")],
        songs: [memoryFile("songs.csv", SONGS)],
        users: [memoryFile("u.csv", USERS)],
      },
      { schemas: { streams: strict } },
    );
    expect(run.files.at(-1)?.rejection?.code).toBe("missing_column");
  });
});
