// maxRowBytes bounds a row's bytes as written: separators, quotes and multi-byte characters
// included, the line break not. csv-parse's own limit counted decoded characters without
// separators or quotes (and not the last one), so a 1,985-byte row of doubled quotes passed a
// 1,000-byte limit.
import { describe, expect, it } from "vitest";
import { computeKpis, readCsv } from "../src/index.js";
import { memoryFile, SONGS, USERS } from "./helpers.js";

const MAX = 1000;
const TAIL = ",t1,2025-06-22 10:00:00";

/** Rows of exactly `bytes` bytes (before the line break), written in several ways. */
function rowsOf(bytes: number): Record<string, string> {
  const quotes = (bytes - TAIL.length - 2) / 2;
  const wide = (bytes - TAIL.length) / 2;
  return {
    ascii: `${"z".repeat(bytes - TAIL.length)}${TAIL}`,
    commas: `u1,t1,2025-06-22 10:00:00${",".repeat(bytes - 25)}`,
    ...(Number.isInteger(quotes) ? { quotes: `"${'""'.repeat(quotes)}"${TAIL}` } : {}),
    ...(Number.isInteger(wide) ? { wide: `${"é".repeat(wide)}${TAIL}` } : {}),
    middle: `u1,"${"é".repeat(Math.floor((bytes - 25) / 2))}${"x".repeat((bytes - 25) % 2)}",2025-06-22 10:00:00`,
  };
}

async function readAll(text: string, chunk: number): Promise<string[][]> {
  const bytes = Buffer.from(text, "utf8");
  const chunks = function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  };
  const out: string[][] = [];
  for await (const batch of readCsv(chunks(), { name: "f.csv", maxRowBytes: MAX }))
    out.push(...batch.records);
  return out;
}

describe("maxRowBytes counts a row's bytes", () => {
  for (const bytes of [MAX - 1, MAX, MAX + 1, MAX + 2, MAX + 3]) {
    for (const [how, row] of Object.entries(rowsOf(bytes))) {
      it(`${bytes}-byte row (${how}): ${bytes > MAX ? "row_too_large" : "read"}`, async () => {
        expect(Buffer.byteLength(row)).toBe(bytes);
        for (const eol of ["\n", "\r\n", ""]) {
          const text = `\ufeffuser_id,track_id,listen_time\n${row}${eol}`;
          for (const chunk of [1, 7, 4096]) {
            const read = readAll(text, chunk);
            if (bytes > MAX) await expect(read).rejects.toMatchObject({ code: "row_too_large" });
            else expect(await read).toHaveLength(2);
          }
        }
        const run = await computeKpis(
          {
            streams: [
              memoryFile("s.csv", `user_id,track_id,listen_time\nu1,t1,2025-06-22 10:00:00\n${row}\n`),
            ],
            songs: [memoryFile("songs.csv", SONGS)],
            users: [memoryFile("users.csv", USERS)],
          },
          { maxRowBytes: MAX, maxBadRowShare: 1 },
        );
        const report = run.files.find((f) => f.kind === "streams")!;
        expect(report.rejection?.code).toBe(bytes > MAX ? "row_too_large" : undefined);
      });
    }
  }

  it("still skips empty lines, with LF and CRLF, and keeps a quoted empty field's line", async () => {
    expect(await readAll('a,b\n\n\r\n1,2\r\n\r\n""\n\n3,4', 1)).toEqual([
      ["a", "b"],
      ["1", "2"],
      [""],
      ["3", "4"],
    ]);
  });
});
