import { crc32 } from "node:zlib";
import { BlobFormatError, type BlobKind } from "../errors/index.js";

/**
 * The container every stored musicpipe blob shares (KPI partials, day states, compiled
 * catalogs): a 24-byte header, a head (a small UTF-8 JSON document, possibly empty) and a
 * binary body, each with its own CRC-32, so the head can be read alone with a byte range.
 *
 * | bytes | field |
 * |---|---|
 * | 0-3 | `MPK` and the kind: `P` partial, `S` day state, `C` compiled catalog |
 * | 4 | format version of that kind |
 * | 5-7 | zero |
 * | 8-11 | head length (little-endian u32) |
 * | 12-15 | body length |
 * | 16-19 | CRC-32 of the head |
 * | 20-23 | CRC-32 of the body |
 */
export const BLOB_HEADER_BYTES = 24;

const KIND_LETTER: Record<BlobKind, number> = { partial: 0x50, "day-state": 0x53, catalog: 0x43 };
const MAGIC = [0x4d, 0x50, 0x4b]; // "MPK"
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A growable byte buffer with LEB128 varints: how blob bodies are written. */
export class ByteWriter {
  #buf = new Uint8Array(1024);
  #at = 0;

  get length(): number {
    return this.#at;
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#at + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#at));
    this.#buf = grown;
  }

  byte(value: number): void {
    this.#room(1);
    this.#buf[this.#at++] = value;
  }

  /** A whole number from 0 to 2^53 - 1, 7 bits a byte. */
  varint(value: number): void {
    this.#room(8);
    let v = value;
    while (v >= 0x80) {
      this.#buf[this.#at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#at++] = v;
  }

  bytes(value: Uint8Array): void {
    this.#room(value.length);
    this.#buf.set(value, this.#at);
    this.#at += value.length;
  }

  /** A length-prefixed UTF-8 string. */
  string(value: string): void {
    const bytes = encoder.encode(value);
    this.varint(bytes.length);
    this.bytes(bytes);
  }

  /** Ascending whole numbers: the count, the first, then the gaps. */
  ascending(values: ArrayLike<number>, count = values.length): void {
    this.varint(count);
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const v = values[i]!;
      this.varint(i === 0 ? v : v - previous);
      previous = v;
    }
  }

  /** The bytes written (a view: copy before writing more). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#at);
  }
}

/** Reads what {@link ByteWriter} wrote; running past the end or a malformed value is a {@link BlobFormatError}. */
export class ByteReader {
  readonly #buf: Uint8Array;
  #at = 0;
  readonly #kind: BlobKind;
  readonly #what: string;

  constructor(buf: Uint8Array, kind: BlobKind, what: string) {
    this.#buf = buf;
    this.#kind = kind;
    this.#what = what;
  }

  fail(problem: string): never {
    throw new BlobFormatError(this.#kind, `${this.#what}: ${problem}`);
  }

  get done(): boolean {
    return this.#at >= this.#buf.length;
  }

  get position(): number {
    return this.#at;
  }

  byte(): number {
    if (this.#at >= this.#buf.length) this.fail("ends early");
    return this.#buf[this.#at++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i >= 8) this.fail("a number is too long");
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 0x80;
    }
    if (!Number.isSafeInteger(value)) this.fail("a number is out of range");
    return value;
  }

  /** A count that must fit what is left (each counted thing taking at least `unit` bytes). */
  count(unit = 1): number {
    const n = this.varint();
    if (n * unit > this.#buf.length - this.#at) this.fail("a count is larger than the data left");
    return n;
  }

  bytes(n: number): Uint8Array {
    if (this.#at + n > this.#buf.length) this.fail("ends early");
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  string(): string {
    const bytes = this.bytes(this.count());
    try {
      return decoder.decode(bytes);
    } catch {
      return this.fail("a string is not UTF-8");
    }
  }

  /** What {@link ByteWriter.ascending} wrote; `limit`: every value must be below it. */
  ascending(limit = Number.MAX_SAFE_INTEGER): Int32Array {
    const n = this.count();
    const out = new Int32Array(n);
    const buf = this.#buf;
    const end = buf.length;
    const top = Math.min(limit, 0x80000000);
    let at = this.#at;
    let v = 0;
    for (let i = 0; i < n; i++) {
      // The gap, as a varint: one byte for gaps below 128 (the common case), read in place.
      let step = 0;
      let scale = 1;
      for (let k = 0; ; k++) {
        if (at >= end) this.fail("ends early");
        if (k >= 5) this.fail("a value is out of range");
        const b = buf[at++]!;
        step += (b & 0x7f) * scale;
        if (b < 0x80) break;
        scale *= 0x80;
      }
      if (i > 0 && step === 0) this.fail("values are not strictly ascending");
      v += step;
      if (v >= top) this.fail("a value is out of range");
      out[i] = v;
    }
    this.#at = at;
    return out;
  }
}

/** Assembles a blob: header, head (JSON, or nothing) and body (given whole or in parts). */
export function writeBlob(
  kind: BlobKind,
  version: number,
  head: unknown,
  body: Uint8Array | readonly Uint8Array[],
): Uint8Array {
  const parts = body instanceof Uint8Array ? [body] : body;
  const headBytes = head === undefined ? new Uint8Array(0) : encoder.encode(JSON.stringify(head));
  const bodyLength = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(BLOB_HEADER_BYTES + headBytes.length + bodyLength);
  out.set(MAGIC, 0);
  out[3] = KIND_LETTER[kind];
  out[4] = version;
  const view = new DataView(out.buffer);
  view.setUint32(8, headBytes.length, true);
  view.setUint32(12, bodyLength, true);
  view.setUint32(16, crc32(headBytes), true);
  let crc = 0;
  let at = BLOB_HEADER_BYTES + headBytes.length;
  for (const part of parts) {
    crc = crc32(part, crc);
    out.set(part, at);
    at += part.length;
  }
  view.setUint32(20, crc, true);
  out.set(headBytes, BLOB_HEADER_BYTES);
  return out;
}

/** The header's fields, checked: magic, kind and version. */
export function readBlobHeader(
  bytes: Uint8Array,
  kind: BlobKind,
  version: number,
  what: string,
): { headBytes: number; bodyBytes: number; headCrc: number; bodyCrc: number } {
  const fail = (problem: string): never => {
    throw new BlobFormatError(kind, `${what}: ${problem}`);
  };
  if (bytes.length < BLOB_HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b))
    fail(`not a musicpipe ${kind} blob`);
  if (bytes[3] !== KIND_LETTER[kind]) {
    const found = Object.entries(KIND_LETTER).find(([, letter]) => letter === bytes[3])?.[0];
    fail(found === undefined ? `not a musicpipe ${kind} blob` : `a ${found} blob, not a ${kind} blob`);
  }
  if (bytes[4] !== version)
    fail(`${kind} blob version ${bytes[4]} is not supported (this release reads version ${version})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    headBytes: view.getUint32(8, true),
    bodyBytes: view.getUint32(12, true),
    headCrc: view.getUint32(16, true),
    bodyCrc: view.getUint32(20, true),
  };
}

/**
 * Reads a blob written by {@link writeBlob}: its head (parsed JSON, `undefined` when empty)
 * and body, after checking magic, kind, version, lengths and both checksums. With `headOnly`,
 * `bytes` may end after the head (a ranged read) and the body is not returned.
 */
export function readBlob(
  bytes: Uint8Array,
  kind: BlobKind,
  version: number,
  what: string,
  headOnly = false,
): { head: unknown; body: Uint8Array } {
  const { headBytes, bodyBytes, headCrc, bodyCrc } = readBlobHeader(bytes, kind, version, what);
  const fail = (problem: string): never => {
    throw new BlobFormatError(kind, `${what}: ${problem}`);
  };
  const bodyStart = BLOB_HEADER_BYTES + headBytes;
  if (headOnly ? bytes.length < bodyStart : bytes.length !== bodyStart + bodyBytes)
    fail(`is ${bytes.length} bytes long, its header says ${bodyStart + bodyBytes}`);
  const headPart = bytes.subarray(BLOB_HEADER_BYTES, bodyStart);
  if (crc32(headPart) !== headCrc) fail("the head's checksum does not match (damaged)");
  let head: unknown;
  if (headBytes > 0) {
    try {
      head = JSON.parse(decoder.decode(headPart));
    } catch {
      fail("the head is not valid JSON");
    }
  }
  if (headOnly) return { head, body: new Uint8Array(0) };
  const body = bytes.subarray(bodyStart);
  if (crc32(body) !== bodyCrc) fail("the body's checksum does not match (damaged)");
  return { head, body };
}
