/** What {@link ObjectStore.head} and {@link ObjectStore.list} tell about an object. */
export interface ObjectInfo {
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
  /**
   * An opaque version tag that changes whenever the object is written (S3's ETag, quotes
   * removed). Compare it only for equality.
   */
  readonly etag: string;
  readonly lastModified: Date;
}

/** Why a store passed over an entry under a listed prefix. */
export type SkipReason = "symbolic_link" | "not_a_regular_file" | "unsafe_name" | "not_an_input";

/** An entry a listing passed over: where it is (a key-like path) and why. */
export interface SkippedEntry {
  readonly key: string;
  readonly reason: SkipReason;
}

/** Options of {@link ObjectStore.list}. */
export interface ListOptions {
  /** Called for each entry under the prefix the store passed over (see {@link SkippedEntry}). */
  readonly onSkipped?: ((entry: SkippedEntry) => void) | undefined;
}

/** A byte range: `start` inclusive, `end` exclusive (like `Array.prototype.slice`). */
export interface ByteRange {
  readonly start: number;
  /** Exclusive; omitted means to the end of the object. */
  readonly end?: number | undefined;
}

/** Bytes to store: a whole buffer or string (UTF-8), or a stream of chunks of unknown length. */
export type ObjectBody = Uint8Array | string | AsyncIterable<Uint8Array>;

/**
 * A flat key-value store of byte objects: S3, a local folder, a memory volume. Keys are
 * `/`-separated paths without a leading `/`.
 *
 * Every adapter passes the object store conformance suite of `@musicpipe/memory/conformance`.
 */
export interface ObjectStore {
  /**
   * Streams an object's bytes, or a byte range of them. A missing object fails with
   * `ObjectNotFoundError` when iteration starts (or at the call).
   */
  get(key: string, options?: { readonly range?: ByteRange | undefined }): AsyncIterable<Uint8Array>;
  /** The object's size, etag and modification time; `undefined` when there is none. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Writes an object whole: readers never see a partly written object. Returns its new etag. */
  put(
    key: string,
    body: ObjectBody,
    options?: { readonly contentType?: string | undefined },
  ): Promise<{ readonly etag: string }>;
  /**
   * Copies an object. With `ifMatch`, fails with `ConditionFailedError` unless the source's
   * etag is that one. A missing source fails with `ObjectNotFoundError`.
   */
  copy(
    from: string,
    to: string,
    options?: { readonly ifMatch?: string | undefined },
  ): Promise<{ readonly etag: string }>;
  /**
   * Moves an object in one step, where the store can (a rename on a file system): afterwards
   * `to` holds the bytes `from` held and `from` is gone. An existing `to` is never replaced:
   * the move fails with `ConditionFailedError` (unless `to` is already the very object `from`
   * is, a move stopped half-way: then it is finished). With `ifMatch`, fails with
   * `ConditionFailedError` unless the source's etag is that one; a missing source fails with
   * `ObjectNotFoundError`. Optional: stores without it (S3) are moved by copy and delete.
   */
  move?(
    from: string,
    to: string,
    options?: { readonly ifMatch?: string | undefined },
  ): Promise<{ readonly etag: string }>;
  /**
   * Deletes an object; deleting a missing object succeeds. With `ifMatch`, an object of
   * another etag is kept and the call fails with `ConditionFailedError` (a file replaced
   * under its key is a new delivery, never removed for the old one).
   */
  delete(key: string, options?: { readonly ifMatch?: string | undefined }): Promise<void>;
  /**
   * Every object whose key starts with `prefix`, in ascending key order (by UTF-8 bytes).
   * A store that passes over entries under the prefix that are no objects to it (a local
   * folder's symbolic links, say) tells `options.onSkipped` about each.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
}
