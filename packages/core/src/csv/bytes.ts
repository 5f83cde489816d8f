import { isUtf8 } from "node:buffer";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { CsvFormatError } from "../errors/index.js";

/** Default maximum size of one CSV row: 1 MiB. */
export const DEFAULT_MAX_ROW_BYTES = 1024 * 1024;

/** Anything that yields the bytes of a file in order: a Node stream, an S3 body, a generator. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

async function* toAsync(source: ByteSource): AsyncGenerator<Uint8Array> {
  yield* source;
}

/**
 * Yields the bytes of `source`, gunzipped when they start with the gzip magic bytes (or when
 * `gzip` is true). Concatenated gzip members are read as one stream.
 */
export async function* maybeGunzip(
  source: ByteSource,
  name: string,
  gzip?: boolean,
): AsyncGenerator<Uint8Array> {
  const it = toAsync(source);
  let drained = false;
  try {
    yield* gunzipIfNeeded(it, name, gzip, () => {
      drained = true;
    });
  } finally {
    // A reader that stops early (a bad header, a corrupt gzip member, a consumer's `break`)
    // releases the source: a file handle behind it is closed now, not on garbage collection.
    if (!drained) await it.return?.(undefined);
  }
}

async function* gunzipIfNeeded(
  it: AsyncIterator<Uint8Array>,
  name: string,
  gzip: boolean | undefined,
  onDrained: () => void,
): AsyncGenerator<Uint8Array> {
  // Collect at least two bytes to look at the magic number.
  const head: Uint8Array[] = [];
  let headLength = 0;
  while (headLength < 2) {
    const next = await it.next();
    if (next.done) {
      onDrained();
      break;
    }
    if (next.value.length === 0) continue;
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = head[0];
  const isGzip =
    first !== undefined &&
    first[0] === GZIP_MAGIC_0 &&
    (first.length > 1 ? first[1] : head[1]?.[0]) === GZIP_MAGIC_1;
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    onDrained();
  }
  if (!isGzip) {
    if (gzip === true && headLength > 0) {
      throw new CsvFormatError(
        "invalid_gzip",
        `${name}: expected gzip data, but the file does not start with the gzip header`,
        { file: name },
      );
    }
    yield* rest();
    return;
  }
  const input = Readable.from(rest(), { objectMode: false });
  const gunzip = createGunzip();
  input.on("error", (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Uint8Array;
  } catch (err) {
    if (
      err instanceof Error &&
      "errno" in err &&
      typeof (err as NodeJS.ErrnoException).code === "string" &&
      (err as NodeJS.ErrnoException).code!.startsWith("Z_")
    ) {
      throw new CsvFormatError(
        "invalid_gzip",
        `${name}: the gzip data is corrupt or truncated (${err.message})`,
        { file: name, cause: err },
      );
    }
    throw err;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}

/** `a` followed by `b`, in a new array. */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** How many bytes at the end of `chunk` begin a UTF-8 sequence that the chunk does not finish. */
function incompleteTail(chunk: Uint8Array): number {
  const n = chunk.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = chunk[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * Yields the bytes of `source`, failing with `invalid_encoding` at the first byte sequence
 * that is not UTF-8. Every chunk yielded holds whole characters: a character cut between two
 * chunks is yielded as a chunk of its own, the rest of each chunk as it came.
 */
export async function* checkUtf8(
  source: AsyncIterable<Uint8Array>,
  name: string,
): AsyncGenerator<Uint8Array> {
  let carry: Uint8Array | undefined;
  let offset = 0;
  for await (const raw of source) {
    let chunk = raw;
    if (carry !== undefined) {
      // The character cut at the end of the last chunk, finished by this chunk's first bytes:
      // checked and passed on by itself, so the rest of the chunk is not copied.
      const lead = carry[0]!;
      const need = (lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2) - carry.length;
      if (raw.length < need) {
        carry = concatBytes(carry, raw);
        continue;
      }
      const joined = concatBytes(carry, raw.subarray(0, need));
      carry = undefined;
      if (!isUtf8(joined)) throw notUtf8(name, offset);
      offset += joined.length;
      yield joined;
      chunk = raw.subarray(need);
    }
    const tail = incompleteTail(chunk);
    const whole = tail === 0 ? chunk : chunk.subarray(0, chunk.length - tail);
    if (!isUtf8(whole)) throw notUtf8(name, offset);
    if (tail > 0) carry = chunk.slice(chunk.length - tail);
    offset += whole.length;
    if (whole.length > 0) yield whole;
  }
  if (carry !== undefined) throw notUtf8(name, offset);
}

function notUtf8(name: string, offset: number): CsvFormatError {
  return new CsvFormatError("invalid_encoding", `${name}: bytes after offset ${offset} are not valid UTF-8`, {
    file: name,
  });
}
