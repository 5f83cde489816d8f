import type { CompactTransfer, FileReport } from "@musicpipe/core";

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
