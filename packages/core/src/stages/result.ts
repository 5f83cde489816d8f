import type { FileRecord, RowCounts } from "../ports/tables.js";
import type { FileRejection } from "../validate/index.js";

/** The stages, in order. */
export type StageName = "validate" | "transform" | "load" | "archive";

/**
 * What a stage reports: small and JSON-serialisable, so an orchestrator (Airflow XCom) can
 * pass it on.
 */
export interface StageResult {
  readonly fileKey: string;
  readonly stage: StageName;
  /** `SUCCESS`: done (now or before); `FAILED`: the file was rejected; `SKIPPED`: nothing to do. */
  readonly status: "SUCCESS" | "FAILED" | "SKIPPED";
  readonly message?: string | undefined;
  readonly rejection?: FileRejection | undefined;
  readonly rowCounts?: RowCounts | undefined;
  readonly listenDates?: readonly string[] | undefined;
  readonly contentSha256?: string | undefined;
  /** Where the file went (archive or error prefix), once moved. */
  readonly movedTo?: string | undefined;
}

export function stageResult(
  stage: StageName,
  record: FileRecord,
  status: StageResult["status"],
): StageResult {
  const message =
    stage === "validate"
      ? record.validationMessage
      : stage === "archive"
        ? record.archivalMessage
        : record.kpiIngestionMessage;
  return {
    fileKey: record.fileKey,
    stage,
    status,
    ...(message === undefined ? {} : { message }),
    ...(record.rejection === undefined ? {} : { rejection: record.rejection }),
    ...(record.rowCounts === undefined ? {} : { rowCounts: record.rowCounts }),
    ...(record.listenDates === undefined ? {} : { listenDates: record.listenDates }),
    ...(record.contentSha256 === undefined ? {} : { contentSha256: record.contentSha256 }),
    ...(record.archivalStatus === "SUCCESS" && record.archivedKey !== undefined
      ? { movedTo: record.archivedKey }
      : {}),
  };
}
