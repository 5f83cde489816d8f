/**
 * Options accepted by every musicpipe error, in addition to the standard `cause`.
 */
export interface MusicpipeErrorOptions extends ErrorOptions {
  /** The object key or file name the error is about, when there is one. */
  readonly file?: string | undefined;
}

/**
 * Base class of every error thrown by musicpipe. `code` is a stable machine-readable
 * identifier; `message` starts with what failed and where.
 */
export class MusicpipeError extends Error {
  /** Stable machine-readable error code. */
  readonly code: string;
  /** The object key or file name the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(code: string, message: string, options: MusicpipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = options.file;
  }
}

/** Machine codes of {@link CsvFormatError}. */
export type CsvFormatErrorCode = "invalid_encoding" | "invalid_gzip" | "malformed_csv" | "row_too_large";

/**
 * The bytes of a file cannot be read as CSV: not UTF-8, a broken gzip stream, unbalanced
 * quotes, or a row longer than the configured limit.
 */
export class CsvFormatError extends MusicpipeError {
  declare readonly code: CsvFormatErrorCode;
  /** 1-based physical line where the problem was found, when known. */
  readonly line: number | undefined;

  constructor(
    code: CsvFormatErrorCode,
    message: string,
    options: MusicpipeErrorOptions & { line?: number | undefined } = {},
  ) {
    super(code, message, options);
    this.line = options.line;
  }
}

/** A serialised KPI partial could not be read: wrong version or malformed content. */
export class PartialFormatError extends MusicpipeError {
  constructor(message: string, options: MusicpipeErrorOptions = {}) {
    super("invalid_partial", message, options);
  }
}

/** What a stored musicpipe blob holds. */
export type BlobKind = "partial" | "day-state" | "catalog";

/**
 * A stored binary blob (a KPI partial, a day state, a compiled catalog) could not be read: not
 * a musicpipe blob, another kind, an unknown version, or damaged (checksum or structure).
 */
export class BlobFormatError extends MusicpipeError {
  /** The kind of blob that was expected. */
  readonly blobKind: BlobKind;

  constructor(blobKind: BlobKind, message: string, options: MusicpipeErrorOptions = {}) {
    super("invalid_blob", message, options);
    this.blobKind = blobKind;
  }
}

/** A count or sum left the range of exactly representable integers (2^53 - 1). */
export class KpiOverflowError extends MusicpipeError {
  constructor(message: string) {
    super("kpi_overflow", message);
  }
}

/** An option passed to a musicpipe function is out of range or of the wrong type. */
export class ConfigurationError extends MusicpipeError {
  constructor(message: string, options: MusicpipeErrorOptions = {}) {
    super("invalid_configuration", message, options);
  }
}

/** An object store has no object at the key asked for. */
export class ObjectNotFoundError extends MusicpipeError {
  /** The key that was not found. */
  readonly key: string;
  constructor(key: string, options: MusicpipeErrorOptions = {}) {
    super("object_not_found", `no object at key '${key}'`, { ...options, file: options.file ?? key });
    this.key = key;
  }
}

/**
 * A conditional operation found the state it depends on changed: an object's etag (copy with
 * `ifMatch`) or a record's version (conditional table writes). Re-read and decide again.
 */
export class ConditionFailedError extends MusicpipeError {
  constructor(message: string, options: MusicpipeErrorOptions = {}) {
    super("condition_failed", message, options);
  }
}

/** An object key that an adapter refuses: empty, absolute, with `..` segments or NUL bytes. */
export class InvalidKeyError extends MusicpipeError {
  readonly key: string;
  constructor(key: string, reason: string) {
    super("invalid_key", `invalid object key '${key.replaceAll("\0", "\\0")}': ${reason}`, { file: key });
    this.key = key;
  }
}
