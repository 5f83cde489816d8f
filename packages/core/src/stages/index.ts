export { archiveStage } from "./archive.js";
export {
  createPipelineContext,
  hashedReads,
  hashingSource,
  inputFilesUnder,
  type PipelineConfig,
  type PipelineContext,
} from "./context.js";
export { type DateLoad, loadListenDate, loadStage } from "./load.js";
export { MoveError, moveOut } from "./move.js";
export { currentRecord, isFinished, isMovedOut } from "./record.js";
export type { StageName, StageResult } from "./result.js";
export { type FileOutcome, type RunSummary, runFile, runPending } from "./run.js";
export { StageOrderError, transformStage } from "./transform.js";
export { validateStage } from "./validate.js";
