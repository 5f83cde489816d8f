import type { PipelineContext } from "./context.js";
import type { StageName, StageResult } from "./result.js";

/**
 * Records what a stage that returned did: `StageDuration` (ms since `startedMs` on the
 * context's clock, dimension `stage`) and `FilesByStatus` (count 1, dimensions `stage` and
 * `status`). Stages that throw record neither; their caller counts errors.
 */
export function recordStage(
  ctx: PipelineContext,
  stage: StageName,
  startedMs: number,
  result: StageResult,
): StageResult {
  ctx.metrics.durationMs("StageDuration", ctx.clock.now().getTime() - startedMs, { stage });
  ctx.metrics.count("FilesByStatus", 1, { stage, status: result.status });
  return result;
}
