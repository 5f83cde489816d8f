import { S3Client } from "@aws-sdk/client-s3";
import { ConfigurationError } from "@musicpipe/core";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** S3's smallest part (all but the last) of a multipart upload: 5 MiB. */
export const MIN_PART_BYTES = 5 * MiB;
/** S3's largest part of a multipart upload, and the largest object CopyObject copies: 5 GiB. */
export const MAX_PART_BYTES = 5 * GiB;
/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;

/** Options of {@link createS3ObjectStore}. */
export interface S3ObjectStoreOptions {
  /** The bucket's name (not an access point ARN). */
  readonly bucket: string;
  /**
   * The S3 client to call. Pass your own to reuse it, to set `region`, `credentials` or
   * `maxAttempts`, or to point it at a local server (`endpoint`, `forcePathStyle: true`,
   * `requestChecksumCalculation: "WHEN_REQUIRED"`, `responseChecksumValidation: "WHEN_REQUIRED"`).
   * @default `new S3Client({})`: region, credentials and endpoint from the standard chain
   *   (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL_S3`, ...), 3 attempts with the SDK's
   *   standard retry strategy.
   */
  readonly client?: S3Client | undefined;
  /**
   * Prepended to every key: the store's key `a.csv` is the S3 object `${prefix}a.csv`, and
   * `list` returns keys without it. Usually ends with `/`.
   * @default ""
   */
  readonly prefix?: string | undefined;
  /**
   * Objects larger than this are copied with a multipart upload (CreateMultipartUpload,
   * UploadPartCopy per part, CompleteMultipartUpload) instead of one CopyObject. At most
   * 5 GiB, the largest object CopyObject can copy.
   * @default 5 GiB (5,368,709,120 bytes)
   */
  readonly multipartCopyThresholdBytes?: number | undefined;
  /**
   * Size of each part of a multipart copy (the last may be smaller): 5 MiB to 5 GiB. Raised
   * automatically when the object would need more than 10,000 parts.
   * @default 512 MiB
   */
  readonly copyPartSizeBytes?: number | undefined;
  /**
   * How many UploadPartCopy calls of one multipart copy run at once.
   * @default 8
   */
  readonly copyConcurrency?: number | undefined;
  /**
   * Part size of streamed puts (`AsyncIterable` bodies), which go through lib-storage's
   * `Upload`: a stream shorter than this is one PutObject, a longer one a multipart upload.
   * 5 MiB to 5 GiB. With 10,000 parts at most, the largest stream is 10,000 times this.
   * @default 5 MiB
   */
  readonly uploadPartSizeBytes?: number | undefined;
  /**
   * How many parts of a streamed put upload at once. A streamed put holds up to
   * `uploadQueueSize * uploadPartSizeBytes` bytes in memory.
   * @default 4
   */
  readonly uploadQueueSize?: number | undefined;
}

/** {@link S3ObjectStoreOptions} checked, with every default applied. */
export interface ResolvedS3Options {
  readonly bucket: string;
  readonly client: S3Client;
  readonly prefix: string;
  readonly multipartCopyThresholdBytes: number;
  readonly copyPartSizeBytes: number;
  readonly copyConcurrency: number;
  readonly uploadPartSizeBytes: number;
  readonly uploadQueueSize: number;
}

function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  describe: (n: number) => string = String,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `createS3ObjectStore: '${name}' must be an integer from ${describe(min)} to ${describe(max)}, got ${String(value)}`,
    );
  }
  return value;
}

function bytesText(n: number): string {
  if (n >= GiB && n % GiB === 0) return `${n / GiB} GiB`;
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  return `${n} bytes`;
}

/** Checks {@link S3ObjectStoreOptions} once and applies the defaults. */
export function resolveOptions(options: S3ObjectStoreOptions): ResolvedS3Options {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError("createS3ObjectStore: options with a 'bucket' are required");
  }
  const { bucket } = options;
  if (typeof bucket !== "string" || bucket.length === 0) {
    throw new ConfigurationError("createS3ObjectStore: 'bucket' must be a non-empty bucket name");
  }
  if (bucket.includes("/")) {
    throw new ConfigurationError(
      `createS3ObjectStore: 'bucket' must be a bucket name, got '${bucket}' (access point ARNs are not supported)`,
    );
  }
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string" || prefix.includes("\0")) {
    throw new ConfigurationError("createS3ObjectStore: 'prefix' must be a string without NUL characters");
  }
  if (
    options.client !== undefined &&
    typeof (options.client as { send?: unknown } | null)?.send !== "function"
  ) {
    throw new ConfigurationError("createS3ObjectStore: 'client' must be an S3Client");
  }
  const sizes = {
    multipartCopyThresholdBytes: integerOption(
      "multipartCopyThresholdBytes",
      options.multipartCopyThresholdBytes,
      MAX_PART_BYTES,
      0,
      MAX_PART_BYTES,
      bytesText,
    ),
    copyPartSizeBytes: integerOption(
      "copyPartSizeBytes",
      options.copyPartSizeBytes,
      512 * MiB,
      MIN_PART_BYTES,
      MAX_PART_BYTES,
      bytesText,
    ),
    copyConcurrency: integerOption("copyConcurrency", options.copyConcurrency, 8, 1, 1000),
    uploadPartSizeBytes: integerOption(
      "uploadPartSizeBytes",
      options.uploadPartSizeBytes,
      MIN_PART_BYTES,
      MIN_PART_BYTES,
      MAX_PART_BYTES,
      bytesText,
    ),
    uploadQueueSize: integerOption("uploadQueueSize", options.uploadQueueSize, 4, 1, 1000),
  };
  // Built last, so that a bad option fails before any client exists.
  return { bucket, prefix, client: options.client ?? new S3Client({}), ...sizes };
}

/**
 * The byte ranges (start inclusive, end exclusive) of a multipart copy of `size` bytes with
 * parts of `partSize`, raised so there are at most 10,000 parts.
 */
export function copyParts(size: number, partSize: number): { start: number; end: number }[] {
  const effective = Math.max(partSize, Math.ceil(size / MAX_PARTS));
  const parts: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += effective) {
    parts.push({ start, end: Math.min(size, start + effective) });
  }
  return parts;
}
