import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { CsvFormatError, FastPathUnsupported, readCsv, scanCatalogFast } from "../src/index.js";

/**
 * A byte source like a file behind a handle: it counts the chunks read and whether its reader
 * released it (`return()`, which closes the handle), as opposed to leaving it to the garbage
 * collector.
 */
function trackedSource(chunks: readonly Uint8Array[]) {
  const state = { pulled: 0, released: false, drained: false };
  async function* bytes(): AsyncGenerator<Uint8Array> {
    try {
      for (const chunk of chunks) {
        state.pulled++;
        yield chunk;
      }
      state.drained = true;
    } finally {
      state.released = true;
    }
  }
  return { source: bytes(), state };
}

const text = (s: string) => new TextEncoder().encode(s);
const songRows = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => `t${from + i},Song ${from + i},pop,180000,Artist\n`).join("");
const SONGS_HEADER = "track_id,track_name,track_genre,duration_ms,artists\n";

async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source);
}

describe("readers release their byte source when they stop early", () => {
  it("gzip expected but the bytes are plain: invalid_gzip, source released", async () => {
    const { source, state } = trackedSource([
      text(SONGS_HEADER),
      text(songRows(0, 10)),
      text(songRows(10, 10)),
    ]);
    const error = await drain(readCsv(source, { name: "s.csv.gz", gzip: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvFormatError);
    expect((error as CsvFormatError).code).toBe("invalid_gzip");
    expect(state.drained).toBe(false);
    expect(state.released).toBe(true);
  });

  it("a gzip member that turns corrupt: invalid_gzip, source released before its end", async () => {
    const zipped = gzipSync(Buffer.from(SONGS_HEADER + songRows(0, 20_000)));
    const cut = 64;
    const corrupt = Buffer.from(zipped.subarray(0, zipped.length - 8));
    corrupt.fill(0xff, cut, cut + 512);
    const parts = Array.from({ length: Math.ceil(corrupt.length / 256) }, (_, i) =>
      corrupt.subarray(i * 256, (i + 1) * 256),
    );
    const { source, state } = trackedSource(parts);
    const error = await drain(readCsv(source, { name: "s.csv.gz" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvFormatError);
    expect((error as CsvFormatError).code).toBe("invalid_gzip");
    expect(state.released).toBe(true);
  });

  it("a consumer that stops after the first batch releases the source (plain and gzip)", async () => {
    // Names that do not compress away, so the gzip input is much larger than what the
    // decompression pipeline reads ahead.
    let seed = 7;
    const noise = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed.toString(36);
    };
    const rows = Array.from({ length: 200 }, (_, c) =>
      text(
        Array.from(
          { length: 500 },
          (_, i) => `t${c * 500 + i},${noise()}${noise()},pop,180000,${noise()}\n`,
        ).join(""),
      ),
    );
    const plain = [text(SONGS_HEADER), ...rows];
    const zipped = gzipSync(Buffer.concat(plain));
    const gzParts = Array.from({ length: Math.ceil(zipped.length / 4096) }, (_, i) =>
      zipped.subarray(i * 4096, (i + 1) * 4096),
    );
    for (const chunks of [plain, gzParts]) {
      const { source, state } = trackedSource(chunks);
      for await (const batch of readCsv(source, { name: "s.csv" })) {
        expect(batch.records.length).toBeGreaterThan(0);
        break;
      }
      expect(state.drained).toBe(false);
      expect(state.released).toBe(true);
    }
  });

  it("the fast catalog scan stopped by bytes it refuses (invalid UTF-8) releases the source", async () => {
    const invalid = Uint8Array.of(...text("t9,Bad "), 0xc3, 0x28, ...text(",pop,180000,Artist\n"));
    const chunks = [
      text(SONGS_HEADER + songRows(0, 10)),
      invalid,
      ...Array.from({ length: 20 }, (_, i) => text(songRows(100 + i * 10, 10))),
    ];
    const { source, state } = trackedSource(chunks);
    const error = await scanCatalogFast(source, "songs.csv", "songs").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FastPathUnsupported);
    expect(state.drained).toBe(false);
    expect(state.released).toBe(true);
  });
});
