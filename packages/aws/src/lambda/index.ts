/**
 * `@musicpipe/aws/lambda`: Lambda handler factories and the structured JSON logger they use (in
 * the shape of Powertools for AWS Lambda's logs). See docs/orchestration.md and
 * docs/observability.md.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/aws/lambda
 */
export type { LambdaContextLike, LambdaContextLogger } from "./context.js";
export {
  createJsonLogger,
  isUserNameField,
  type JsonLogger,
  type JsonLoggerOptions,
  type LogLevel,
  logLevelFrom,
} from "./logger.js";
export { SDK_MIN_NODE_MAJOR, sayNodeSupportOnce } from "./node-support.js";
export {
  fromPowertoolsLogger,
  type PowertoolsLoggerAdapter,
  type PowertoolsLoggerLike,
} from "./powertools.js";
export {
  type AirflowStageEvent,
  createStageHandler,
  type DateFinishEvent,
  type DateFinishResult,
  type DateLoadEvent,
  type DateLoadResult,
  type FileStageEvent,
  parseStageEvent,
  STAGE_NAMES,
  type StageEvent,
  StageEventError,
  type StageHandler,
  type StageHandlerOptions,
  type StageHandlerResult,
} from "./stage.js";
export {
  createS3TriggerHandler,
  DEFAULT_DAG_ID,
  decodeS3EventKey,
  type FailedTrigger,
  type IgnoredReason,
  type IgnoredRecord,
  type S3EventRecordLike,
  S3TriggerError,
  type S3TriggerEvent,
  type S3TriggerHandler,
  type S3TriggerHandlerOptions,
  type S3TriggerSummary,
  s3RunId,
  type TriggeredFile,
} from "./trigger.js";
