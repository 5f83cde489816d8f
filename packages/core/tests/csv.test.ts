import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CsvFormatError, readCsv } from "../src/index.js";

async function records(content: string | Uint8Array, chunkSize = 3, options = {}): Promise<string[][]> {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  const chunks = function* () {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  };
  const out: string[][] = [];
  for await (const batch of readCsv(chunks(), { name: "f.csv", ...options })) out.push(...batch.records);
  return out;
}

async function failure(content: string | Uint8Array, options = {}): Promise<CsvFormatError> {
  try {
    await records(content, 5, options);
  } catch (err) {
    if (err instanceof CsvFormatError) return err;
    throw err;
  }
  throw new Error("expected a CsvFormatError");
}

describe("readCsv", () => {
  it("reads quoted commas, doubled quotes and quoted newlines", async () => {
    expect(await records('a,b\n"x, y","say ""hi"""\n"line1\nline2",z\n')).toEqual([
      ["a", "b"],
      ["x, y", 'say "hi"'],
      ["line1\nline2", "z"],
    ]);
  });

  it("reads CRLF, LF and a mix of both, with a CRLF split across chunks", async () => {
    const expected = [
      ["a", "b"],
      ["1", "2"],
      ["3", "4"],
    ];
    expect(await records("a,b\r\n1,2\r\n3,4\r\n", 4)).toEqual(expected);
    expect(await records("a,b\n1,2\r\n3,4", 1)).toEqual(expected);
  });

  it("keeps CRLF inside quoted fields", async () => {
    expect(await records('a\r\n"x\r\ny"\r\n')).toEqual([["a"], ["x\r\ny"]]);
  });

  it("strips a UTF-8 BOM, even split across chunks", async () => {
    expect(await records("\ufeffuser_id,x\n1,2\n", 1)).toEqual([
      ["user_id", "x"],
      ["1", "2"],
    ]);
  });

  it("decodes multi-byte characters split across chunks", async () => {
    expect(await records("g\n🎸 métal\n", 1)).toEqual([["g"], ["🎸 métal"]]);
  });

  it("skips empty lines", async () => {
    expect(await records("a\n\n1\n\r\n2\n\n")).toEqual([["a"], ["1"], ["2"]]);
  });

  it("reads gzip by its magic bytes, including concatenated members", async () => {
    const gz = Buffer.concat([gzipSync("a,b\n1,2\n"), gzipSync("3,4\n")]);
    expect(await records(gz, 7)).toEqual([
      ["a", "b"],
      ["1", "2"],
      ["3", "4"],
    ]);
  });

  it("fails with invalid_gzip on a truncated gzip stream", async () => {
    const gz = gzipSync("a,b\n".repeat(1000));
    expect((await failure(gz.subarray(0, gz.length - 20))).code).toBe("invalid_gzip");
  });

  it("fails with invalid_gzip when gzip is required and absent", async () => {
    expect((await failure("a,b\n", { gzip: true })).code).toBe("invalid_gzip");
  });

  it("fails with invalid_encoding on bytes that are not UTF-8", async () => {
    const latin1 = Buffer.from("name\nBj\xf6rk\n", "latin1");
    const err = await failure(latin1);
    expect(err.code).toBe("invalid_encoding");
    expect(err.message).toMatch(/^f\.csv: /);
  });

  it("fails with invalid_encoding on a truncated multi-byte character at the end", async () => {
    expect((await failure(Buffer.from([0x61, 0x0a, 0xe2, 0x82]))).code).toBe("invalid_encoding");
  });

  it("fails with malformed_csv on an unclosed quote, naming the line", async () => {
    const err = await failure('a,b\n1,2\n"open,3\n');
    expect(err.code).toBe("malformed_csv");
    expect(err.message).toContain("line");
  });

  it("fails with row_too_large on a row over the limit", async () => {
    const err = await failure(`a,b\n1,${"x".repeat(200)}\n`, { maxRowBytes: 100 });
    expect(err.code).toBe("row_too_large");
    expect(await records(`a,b\n1,${"x".repeat(90)}\n`, 5, { maxRowBytes: 100 })).toHaveLength(2);
  });

  it("reports the line on which each record ends", async () => {
    const lines: number[] = [];
    const bytes = Buffer.from('a\n"x\ny"\nz\n');
    for await (const batch of readCsv([bytes])) lines.push(...batch.lines);
    expect(lines).toEqual([1, 3, 4]);
  });

  it("streams: yields records long before the source ends and stops pulling when the reader stops", async () => {
    let pulled = 0;
    const endless = (function* () {
      yield Buffer.from("user_id,track_id,listen_time\n");
      for (;;) {
        pulled++;
        if (pulled > 1000) throw new Error("the reader pulled far more than it needed");
        yield Buffer.from("u1,t1,2025-06-22 10:00:00\n".repeat(100));
      }
    })();
    let records = 0;
    for await (const batch of readCsv(endless)) {
      records += batch.records.length;
      if (records > 500) break;
    }
    expect(records).toBeGreaterThan(500);
    expect(pulled).toBeLessThan(10);
  });

  it("passes errors of the byte source through unchanged", async () => {
    const broken = (async function* () {
      yield Buffer.from("a,b\n");
      throw new Error("connection reset");
    })();
    await expect(async () => {
      for await (const _ of readCsv(broken)) {
        // drain
      }
    }).rejects.toThrow("connection reset");
  });
});
