import { isUtf8 } from "node:buffer";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkUtf8 } from "../src/csv/bytes.js";
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

describe("checkUtf8", () => {
  const chunked = (bytes: Uint8Array, cuts: number[]) => {
    const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const cut of [...at, bytes.length]) {
      chunks.push(bytes.subarray(from, cut));
      from = cut;
    }
    return (async function* () {
      yield* chunks;
    })();
  };

  it("passes every byte on, in chunks of whole characters, however the input is cut", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "grapheme", maxLength: 60 }),
        fc.array(fc.nat()),
        async (text, cuts) => {
          const bytes = new TextEncoder().encode(text);
          const out: Uint8Array[] = [];
          for await (const chunk of checkUtf8(chunked(bytes, cuts), "f.csv")) out.push(chunk);
          for (const chunk of out) expect(isUtf8(chunk)).toBe(true);
          expect(Buffer.concat(out).equals(Buffer.from(bytes))).toBe(true);
        },
      ),
    );
  });

  it("rejects bytes that are not UTF-8, also where a character is cut between chunks", async () => {
    const cases = [
      [Uint8Array.of(0x61, 0xe2, 0x82), Uint8Array.of(0x41)], // a cut character not finished
      [Uint8Array.of(0x61, 0xf0), Uint8Array.of(0x9f, 0x8e)], // cut, and the input ends
      [Uint8Array.of(0x61, 0xff), Uint8Array.of(0x41)],
    ];
    for (const chunks of cases) {
      const read = async () => {
        for await (const _ of checkUtf8(
          (async function* () {
            yield* chunks;
          })(),
          "f.csv",
        ));
      };
      await expect(read()).rejects.toMatchObject({ code: "invalid_encoding" });
    }
  });
});
