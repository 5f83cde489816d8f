import type { GenreStat, TopGenre, TopSong } from "../kpi/types.js";
import type { FileKind } from "../schema/index.js";
import type { FileRejection } from "../validate/index.js";

/** The KPI sets of one listen date. */
export interface DayKpis {
  readonly listenDate: string;
  readonly genreStats: readonly GenreStat[];
  readonly topSongs: readonly TopSong[];
  readonly topGenres: readonly TopGenre[];
  /** How many partials (distinct file contents) these KPIs include. */
  readonly sourceCount: number;
  /**
   * An order-independent digest of the fingerprints (content SHA-256) of those partials: the
   * XOR of their bytes, hex (64 zeros for none). The list itself lives with the day state.
   */
  readonly sourcesDigest: string;
  /** Increases by one on every write of the date; 0 before the first. */
  readonly version: number;
  readonly updatedAt: string;
}

/**
 * Stores the KPIs of each listen date. Writing a date replaces all three of its sets at once
 * (no genre of an earlier write is left behind).
 */
export interface KpiStore {
  /** The stored KPIs of a date, or `undefined`. */
  getDay(listenDate: string): Promise<DayKpis | undefined>;
  /**
   * Replaces a date's KPIs if the stored version is still `expectedVersion` (0: nothing
   * stored yet), storing `expectedVersion + 1`. Otherwise fails with `ConditionFailedError`.
   */
  putDay(day: Omit<DayKpis, "version">, expectedVersion: number): Promise<DayKpis>;
  /** Every stored date, ascending. */
  listDates(): AsyncIterable<string>;
}

/** Outcome of a stage for a file. */
export type StageStatus = "PENDING" | "IN_PROGRESS" | "SUCCESS" | "FAILED" | "SKIPPED";

/** Row counts of a validated file. */
export interface RowCounts {
  readonly read: number;
  readonly kept: number;
  readonly duplicates: number;
  readonly bad: number;
  readonly badByCode: Readonly<Record<string, number>>;
}

/**
 * The per-file record (`FileValidationMetadata`). One per object key; a new delivery to the
 * same key (a new upload after the earlier one was archived or moved to the error folder)
 * starts the record over and increments `deliveries`.
 */
export interface FileRecord {
  readonly fileKey: string;
  readonly fileType: FileKind;
  /** Etag of the delivery this record describes. */
  readonly etag: string;
  readonly size: number;
  /** How many deliveries this key has had. */
  readonly deliveries: number;
  /** How many times processing of this delivery was started. */
  readonly attempts: number;

  readonly validationStatus: StageStatus;
  readonly validationTimestamp?: string | undefined;
  readonly validationMessage?: string | undefined;
  readonly rejection?: FileRejection | undefined;
  readonly contentSha256?: string | undefined;
  readonly rowCounts?: RowCounts | undefined;
  /** Listen dates the file's kept rows fall on, sorted. */
  readonly listenDates?: readonly string[] | undefined;

  readonly kpiIngestionStatus: StageStatus;
  readonly kpiIngestionTimestamp?: string | undefined;
  readonly kpiIngestionMessage?: string | undefined;

  readonly archivalStatus: StageStatus;
  readonly archivalTimestamp?: string | undefined;
  readonly archivalMessage?: string | undefined;
  /** Where the file is being or was moved: under the archive or the error prefix. */
  readonly archivedKey?: string | undefined;
  /**
   * The etag of the copy at {@link archivedKey}, once a valid file's bytes were copied there
   * before its KPIs were loaded (the bytes counted are kept whatever happens to the input).
   */
  readonly archivedEtag?: string | undefined;

  /** Increases by one on every write; the condition of every transition. */
  readonly version: number;
}

/** Stores {@link FileRecord}s with conditional (optimistic) writes. */
export interface FileStatusStore {
  /** The record of `fileKey`, or `undefined` when none is stored. */
  get(fileKey: string): Promise<FileRecord | undefined>;
  /**
   * Writes the record if the stored one has version `expectedVersion` (0: none stored),
   * storing `expectedVersion + 1`; otherwise fails with `ConditionFailedError`.
   */
  put(record: Omit<FileRecord, "version">, expectedVersion: number): Promise<FileRecord>;
  /** Every record, in ascending key order. */
  list(): AsyncIterable<FileRecord>;
  /**
   * The records whose delivery is not finished yet (not moved out of the raw prefix, see
   * `isFinished`), in ascending key order: what a run looks for to finish interrupted work.
   * Optional: an adapter that keeps them apart makes that cost what is unfinished, not every
   * file ever seen; without it the stages filter {@link list}. It may also yield finished
   * records (the stages filter again), and may lag a moment behind another writer's changes
   * (an eventually consistent index); a record unfinished before the call is always yielded.
   */
  listUnfinished?(): AsyncIterable<FileRecord>;
}

/** A stored KPI partial of one file for one listen date. */
export interface StoredPartial {
  readonly listenDate: string;
  /** The content SHA-256 of the file it came from. */
  readonly fingerprint: string;
  /** The key the file had when it was computed (informational). */
  readonly fileKey: string;
  /** The partial blob (binary, versioned: see `decodePartialDay`). */
  readonly blob: Uint8Array;
}

/** A partial in a {@link PartialStore} listing: its blob is read on demand. */
export interface PartialEntry {
  readonly listenDate: string;
  readonly fingerprint: string;
  readonly fileKey: string;
  /** The blob; fails with `ObjectNotFoundError` when the partial was deleted since it was listed. */
  read(): Promise<Uint8Array>;
}

/**
 * Stores KPI partials keyed by (listen date, fingerprint) until a load has merged them into
 * the day state: they are deleted then, so the store holds what is still to be loaded.
 */
export interface PartialStore {
  /** Stores a partial, replacing one with the same date and fingerprint. */
  put(partial: StoredPartial): Promise<void>;
  /**
   * Stores several partials at once (every listen date of one file), with the same meaning as
   * calling {@link put} for each. Optional: an adapter that can batch (DynamoDB
   * BatchWriteItem) provides it; callers fall back to `put`.
   */
  putMany?(partials: readonly StoredPartial[]): Promise<void>;
  /** Every partial of a date, in ascending fingerprint order (blobs read on demand). */
  listDate(listenDate: string): AsyncIterable<PartialEntry>;
  /** Deletes a partial; deleting a missing one succeeds. */
  delete(listenDate: string, fingerprint: string): Promise<void>;
}

/**
 * Where one listener shard of a listen date's stored state is, and what it includes: a small
 * record (the state itself, of unbounded size, is a blob in the state object store).
 */
export interface DayStatePointer {
  readonly listenDate: string;
  /** The listener shard, from 0. */
  readonly shard: number;
  /** The listener shards the date is stored with (the same on every shard of the date). */
  readonly shards: number;
  /** Key of the state blob in the state object store. */
  readonly stateKey: string;
  /** Bytes at the start of the blob that hold its summary (a ranged read gets it alone). */
  readonly summaryBytes: number;
  /** Partials (distinct file contents) the state includes. */
  readonly sourceCount: number;
  /** The XOR of their fingerprints' bytes, hex. */
  readonly sourcesDigest: string;
  /** Digest of the compiled catalog the state's track and user numbers refer to. */
  readonly catalog: string;
  readonly updatedAt: string;
  /** Increases by one on every write; the condition of every write. */
  readonly version: number;
}

/** Stores {@link DayStatePointer}s with conditional (optimistic) writes. */
export interface DayStateStore {
  /** The pointer of a shard of a date, or `undefined`. */
  get(listenDate: string, shard: number): Promise<DayStatePointer | undefined>;
  /**
   * Writes the pointer if the stored one has version `expectedVersion` (0: none stored),
   * storing `expectedVersion + 1`; otherwise fails with `ConditionFailedError`.
   */
  put(pointer: Omit<DayStatePointer, "version">, expectedVersion: number): Promise<DayStatePointer>;
  /** Every pointer, by date then shard. */
  list(): AsyncIterable<DayStatePointer>;
}
