export type {
  ByteRange,
  ListOptions,
  ObjectBody,
  ObjectInfo,
  ObjectStore,
  SkippedEntry,
  SkipReason,
} from "./object-store.js";
export {
  type Clock,
  type DagTrigger,
  type FailureNotice,
  type LogFields,
  type Logger,
  type Metrics,
  type Notifier,
  noMetrics,
  silentLogger,
  systemClock,
} from "./observability.js";
export type {
  DayKpis,
  DayStatePointer,
  DayStateStore,
  FileRecord,
  FileStatusStore,
  KpiStore,
  PartialEntry,
  PartialStore,
  RowCounts,
  StageStatus,
  StoredPartial,
} from "./tables.js";
