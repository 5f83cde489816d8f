import type { SharedCatalogIndex } from "../fast/catalog-index.js";
import type { TrackTableTransfer, UserTableTransfer } from "../fast/catalog-tables.js";
import type { CompactTransfer } from "../fast/compact.js";
import type { ByteSpan } from "../fast/ranges.js";
import type { StreamsHeader } from "../fast/scan.js";
import type { FileReport, ScanOptions } from "../validate/index.js";

/** Messages from the pool to a worker thread. */
export type ToWorker =
  /** First message: the scan options of every task. */
  | { readonly type: "setup"; readonly options: ScanOptions }
  /** The catalog index, once the catalog is read: streams tasks given before it read ahead. */
  | {
      readonly type: "index";
      readonly index: SharedCatalogIndex;
      /** For encoding partials: the compiled catalog's digest, the listener shards, each user's shard. */
      readonly partials?: PartialEncoding | undefined;
    }
  /** Read a songs or users file (its bytes follow as chunks). */
  | {
      readonly type: "catalog";
      readonly id: number;
      readonly kind: "songs" | "users";
      readonly name: string;
      /** Build the id lookup table in the worker (else on demand, where it is used). */
      readonly indexed: boolean;
      /** Also encode the table as its part of a compiled catalog. */
      readonly encode: boolean;
      /** The file's size in bytes, when known (its tables are sized for it). */
      readonly size?: number | undefined;
    }
  /** Scan a streams file, or a byte range of one (its bytes follow as chunks). */
  | {
      readonly type: "streams";
      readonly id: number;
      readonly name: string;
      readonly range?: { readonly span: ByteSpan; readonly header: StreamsHeader | undefined } | undefined;
      /** Also compute the SHA-256 of the bytes. */
      readonly hash: boolean;
      /** Send the partial as encoded blobs per listen date (see {@link PartialEncoding}). */
      readonly encode: boolean;
    }
  | { readonly type: "chunk"; readonly id: number; readonly bytes: Uint8Array }
  | { readonly type: "end"; readonly id: number }
  /** The task's bytes could not be read: it fails with this message. */
  | { readonly type: "abort"; readonly id: number; readonly message: string };

/** Messages from a worker thread to the pool. */
export type FromWorker =
  /** First message: the worker has started. */
  | { readonly type: "ready"; readonly id?: undefined }
  /** A chunk of the task's bytes was taken: the pool may send another. */
  | { readonly type: "ack"; readonly id: number }
  | {
      readonly type: "catalog";
      readonly id: number;
      readonly report: FileReport;
      readonly tracks?: TrackTableTransfer | undefined;
      readonly users?: UserTableTransfer | undefined;
      readonly section?: Uint8Array | undefined;
      readonly sectionDigest?: Uint8Array | undefined;
    }
  | {
      readonly type: "streams";
      readonly id: number;
      readonly report: FileReport;
      /** The file's (or range's) partial; none for a rejected whole file. */
      readonly partial: CompactTransfer | undefined;
      /** With `encode`: the partial as blobs per listen date instead. */
      readonly blobs?: readonly (readonly [string, Uint8Array])[] | undefined;
      /** For a range: its physical lines and duplicate keys, to merge the ranges. */
      readonly range?:
        | { readonly lines: number; readonly seen: Int32Array; readonly seenFractions: readonly string[] }
        | undefined;
      readonly sha256?: string | undefined;
    }
  /** The fast row source does not take the file: the general reader must. */
  | { readonly type: "unsupported"; readonly id: number }
  | { readonly type: "error"; readonly id: number; readonly message: string };

/** What a streams scan in a worker gives back. */
export interface StreamsScanned {
  readonly report: FileReport;
  /** The file's (or range's) partial; none for a rejected whole file. */
  readonly partial: CompactTransfer | undefined;
  /** With `encode`: the partial as blobs per listen date instead. */
  readonly blobs?: readonly (readonly [string, Uint8Array])[] | undefined;
  readonly range?:
    | { readonly lines: number; readonly seen: Int32Array; readonly seenFractions: readonly string[] }
    | undefined;
  /** The SHA-256 of the bytes, when asked for. */
  readonly sha256?: string | undefined;
}

/** What a worker needs to encode a file's partial as blobs (see `encodePartials`). */
export interface PartialEncoding {
  readonly digest: string;
  readonly shards: number;
  /** Each user number's listener shard (shared memory). */
  readonly userShard: Uint16Array;
}

/** How a catalog file is read in a thread (`ScanThreads.catalogFile`). */
export interface CatalogFileOptions {
  /** Build the id lookup table in the thread (for scans that follow), not on first use. */
  readonly indexed?: boolean | undefined;
  /** Also encode the table as its part of a compiled catalog. */
  readonly encode?: boolean | undefined;
  /** The file's size in bytes, when known: its tables are sized for it early (fewer copies). */
  readonly size?: number | undefined;
}
