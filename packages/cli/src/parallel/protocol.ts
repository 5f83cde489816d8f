import type { CompactTransfer, FileReport, ScanOptions, SharedCatalogIndex } from "@musicpipe/core";

/** The first message to a worker: the catalog index to scan against, and the scan options. */
export interface WorkerSetup {
  readonly index: SharedCatalogIndex;
  readonly options: ScanOptions;
}

/** A file for a worker to scan. */
export interface WorkerTask {
  readonly id: number;
  readonly path: string;
  readonly name: string;
}

/** A worker's answer: the file's report and partial, or that the general reader must do it. */
export type WorkerReply =
  | {
      readonly id: number;
      readonly kind: "done";
      readonly report: FileReport;
      readonly partial: CompactTransfer | undefined;
    }
  | { readonly id: number; readonly kind: "unsupported" }
  | { readonly id: number; readonly kind: "error"; readonly message: string };
