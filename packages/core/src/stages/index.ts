export { archiveStage } from "./archive.js";
export {
  type ComputedPartials,
  catalogKey,
  createPipelineContext,
  hashedReads,
  hashingSource,
  inputFilesUnder,
  type LoadedCatalog,
  type PipelineConfig,
  type PipelineContext,
  type ScanThreads,
} from "./context.js";
export {
  type DateLoad,
  type DayFinal,
  finalizeDay,
  finishListenDate,
  loadDayShard,
  loadListenDate,
  loadStage,
  type ShardLoad,
} from "./load.js";
export { MoveError, moveOut } from "./move.js";
export { currentRecord, isFinished, isMovedOut } from "./record.js";
export type { StageName, StageResult } from "./result.js";
export { type FileOutcome, type RunSummary, runFile, runPending } from "./run.js";
export { StageOrderError, transformStage } from "./transform.js";
export { validateStage } from "./validate.js";
