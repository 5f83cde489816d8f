import type {
  ByteSpan,
  CompactTransfer,
  FileReport,
  ScanOptions,
  SharedCatalogIndex,
  StreamsHeader,
} from "@musicpipe/core";

/** The first message to a worker: the scan options. */
export interface WorkerStart {
  readonly options: ScanOptions;
}

/**
 * The catalog index to scan against, sent once the catalog is read: a worker given a file
 * before it reads ahead (lines split, ids interned locally) and counts the rows when it comes.
 */
export interface WorkerIndex {
  readonly index: SharedCatalogIndex;
}

/** A file, or a byte range of one, for a worker to scan. */
export interface WorkerTask {
  readonly id: number;
  readonly path: string;
  readonly name: string;
  /** A byte range of the file, with the file's header for ranges after the first. */
  readonly range?: { readonly span: ByteSpan; readonly header: StreamsHeader | undefined } | undefined;
}

/** A worker's answer: the file's (or range's) report and partial, or that the general reader must do it. */
export type WorkerReply =
  | {
      readonly id: number;
      readonly kind: "done";
      readonly report: FileReport;
      readonly partial: CompactTransfer | undefined;
      /** For a range: its physical lines and its duplicate keys, to merge the ranges. */
      readonly range?:
        | { readonly lines: number; readonly seen: Int32Array; readonly seenFractions: readonly string[] }
        | undefined;
    }
  | { readonly id: number; readonly kind: "unsupported" }
  | { readonly id: number; readonly kind: "error"; readonly message: string };
