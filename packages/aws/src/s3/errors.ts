import { ConditionFailedError, MusicpipeError, ObjectNotFoundError } from "@musicpipe/core";

/**
 * An S3 call failed in a way the `ObjectStore` port has no error for: access denied, a
 * missing bucket, a network failure after the SDK's retries, a malformed response. The SDK
 * error is the `cause`.
 *
 * Throttling (`SlowDown`, 503) and server errors (5xx) are retried by the S3 client's retry
 * strategy before they get here; to retry more, pass a client built with a higher
 * `maxAttempts` (or a custom `retryStrategy`).
 */
export class S3OperationError extends MusicpipeError {
  declare readonly code: "s3_error";
  /** The S3 API operation that failed, e.g. `GetObject`, `UploadPartCopy`. */
  readonly operation: string;
  readonly bucket: string;
  /** The object store key (without the store's prefix); `""` for bucket-wide calls. */
  readonly key: string;
  /** The HTTP status S3 answered with, when there was an answer. */
  readonly statusCode: number | undefined;
  /** S3's error code (`AccessDenied`, `NoSuchBucket`, ...), or the error's name. */
  readonly awsCode: string | undefined;

  constructor(
    operation: string,
    where: { readonly bucket: string; readonly key: string; readonly s3Key: string },
    cause: unknown,
  ) {
    const status = statusOf(cause);
    const awsCode = nameOf(cause);
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      "s3_error",
      `S3 ${operation} of 's3://${where.bucket}/${where.s3Key}' failed: ${awsCode ?? "error"}` +
        `${status === undefined ? "" : ` (HTTP ${status})`}: ${detail}`,
      { cause, file: where.key === "" ? undefined : where.key },
    );
    this.operation = operation;
    this.bucket = where.bucket;
    this.key = where.key;
    this.statusCode = status;
    this.awsCode = awsCode;
  }
}

/** The HTTP status of an SDK error (`$metadata.httpStatusCode`), if any. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** The S3 error code of an SDK error (its `name`, e.g. `NoSuchKey`), if any. */
export function nameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : undefined;
}

/** S3 says there is no object at the key (and not that the bucket is missing). */
export function isNotFound(error: unknown): boolean {
  const name = nameOf(error);
  if (name === "NoSuchKey" || name === "NotFound") return true;
  return statusOf(error) === 404 && name !== "NoSuchBucket" && name !== "NoSuchUpload";
}

/** S3 refused a conditional request (`x-amz-copy-source-if-match` and the like). */
export function isPreconditionFailed(error: unknown): boolean {
  return nameOf(error) === "PreconditionFailed" || statusOf(error) === 412;
}

/** S3 refused a `Range` that starts at or beyond the object's end. */
export function isInvalidRange(error: unknown): boolean {
  return nameOf(error) === "InvalidRange" || statusOf(error) === 416;
}

/**
 * The error to throw for a failed S3 call: musicpipe errors pass through, a missing object
 * becomes {@link ObjectNotFoundError} for `notFoundKey` (when the operation can miss one), a
 * failed precondition {@link ConditionFailedError} (when the operation has one), anything else
 * {@link S3OperationError}.
 */
export function mapS3Error(
  error: unknown,
  operation: string,
  where: { readonly bucket: string; readonly key: string; readonly s3Key: string },
  options: { readonly notFoundKey?: string | undefined; readonly conditionMessage?: string | undefined } = {},
): Error {
  if (error instanceof MusicpipeError) return error;
  if (options.notFoundKey !== undefined && isNotFound(error)) {
    return new ObjectNotFoundError(options.notFoundKey, { cause: error });
  }
  if (options.conditionMessage !== undefined && isPreconditionFailed(error)) {
    return new ConditionFailedError(options.conditionMessage, { cause: error, file: where.key });
  }
  return new S3OperationError(operation, where, error);
}
