import { type ByteRange, ConfigurationError, InvalidKeyError } from "@musicpipe/core";

/** S3's limit on a key's length, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

const LONE_SURROGATE = /\p{Cs}/u;

function checkCharacters(key: string): void {
  if (key.includes("\0")) throw new InvalidKeyError(key, "it contains a NUL character");
  // UTF-8 cannot encode a lone surrogate: the SDK would silently send U+FFFD instead.
  if (LONE_SURROGATE.test(key)) throw new InvalidKeyError(key, "it is not valid Unicode (lone surrogate)");
}

/**
 * Fails with `InvalidKeyError` unless S3 can store `key` under `prefix` as it is: not empty,
 * no NUL, valid Unicode, at most 1,024 UTF-8 bytes with the prefix. Everything else (`..`,
 * leading `/`, `//`, spaces, `+`, `#`, ...) is an ordinary S3 key.
 */
export function checkKey(key: string, prefix: string): void {
  if (typeof key !== "string" || key.length === 0) throw new InvalidKeyError(String(key), "it is empty");
  checkCharacters(key);
  const bytes = Buffer.byteLength(prefix + key, "utf8");
  if (bytes > MAX_KEY_BYTES) {
    throw new InvalidKeyError(
      key,
      `it is ${bytes} UTF-8 bytes long with the store's prefix; S3 allows ${MAX_KEY_BYTES}`,
    );
  }
}

/** Like {@link checkKey} for a list prefix, which may be empty. */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== "string") throw new InvalidKeyError(String(prefix), "a prefix must be a string");
  checkCharacters(prefix);
}

/**
 * Checks a port byte range (start inclusive, end exclusive) and returns the HTTP `Range`
 * header for it (`bytes=first-last`, both inclusive), `undefined` when the whole object is
 * asked for, or `"empty"` when the range holds no byte.
 */
export function rangeHeader(range: ByteRange | undefined): string | undefined | "empty" {
  if (range === undefined) return undefined;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new ConfigurationError(`byte range start must be a non-negative integer, got ${start}`);
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new ConfigurationError(`byte range end must be an integer not below start ${start}, got ${end}`);
  }
  if (end === start) return "empty";
  if (end === undefined) return start === 0 ? undefined : `bytes=${start}-`;
  return `bytes=${start}-${end - 1}`;
}

/**
 * The `x-amz-copy-source` value for an object: `bucket/key` URL-encoded as AWS documents it,
 * each `/`-separated segment with `encodeURIComponent`, the slashes kept.
 */
export function copySource(bucket: string, s3Key: string): string {
  return `${bucket}/${s3Key}`.split("/").map(encodeURIComponent).join("/");
}

/** An S3 ETag without its quotes (the port's etag). */
export function unquoteEtag(etag: string | undefined): string {
  if (etag === undefined) return "";
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}

/** A port etag as an HTTP entity tag, for `If-Match` style headers. */
export function quoteEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/**
 * A key from a ListObjectsV2 answer. With `EncodingType=url`, S3 form-encodes keys (a space
 * as `+`, a `+` as `%2B`) so that characters XML 1.0 cannot carry survive; servers that
 * ignore the parameter say so by not echoing it, and their keys are taken as they are.
 */
export function decodeListedKey(key: string, encodingType: string | undefined): string {
  if (encodingType !== "url") return key;
  return decodeURIComponent(key.replaceAll("+", " "));
}
