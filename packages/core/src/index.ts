/**
 * `@musicpipe/core`: schemas, the streaming CSV reader, validation and the KPI engine of the
 * musicpipe music-streaming ETL pipeline. No AWS SDK and no file system: inputs are byte
 * streams.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/core
 */

export {
  type ByteSource,
  type CsvBatch,
  type CsvReadOptions,
  DEFAULT_MAX_ROW_BYTES,
  readCsv,
} from "./csv/index.js";
export {
  BlobFormatError,
  type BlobKind,
  ConditionFailedError,
  ConfigurationError,
  CsvFormatError,
  type CsvFormatErrorCode,
  InvalidKeyError,
  KpiOverflowError,
  MusicpipeError,
  type MusicpipeErrorOptions,
  ObjectNotFoundError,
  PartialFormatError,
} from "./errors/index.js";
export * from "./fast/index.js";
export {
  KpiAccumulator,
  type KpiPartialState,
  PARTIAL_FORMAT,
  PARTIAL_VERSION,
  TOP_GENRES_PER_DAY,
  TOP_SONGS_PER_GENRE,
} from "./kpi/accumulator.js";
export { byKey, Catalog, type CatalogSchemas, type InputFile, loadCatalog } from "./kpi/catalog.js";
export {
  computeKpis,
  computeStreamsPartial,
  type KpiInput,
  type KpiOptions,
  type KpiRun,
  readStreamsFile,
  type StreamsFileResult,
} from "./kpi/compute.js";
export { compareCodePoints } from "./kpi/order.js";
export type { GenreStat, KpiSet, TopGenre, TopSong, Track } from "./kpi/types.js";
export * from "./layout/index.js";
export * from "./ports/index.js";
export {
  addRowIssue,
  defineTableSchema,
  durationField,
  type FileKind,
  genreField,
  keyField,
  type ListenTime,
  listenTimeField,
  parseListenTime,
  type SongRow,
  type StreamRow,
  songRow,
  songsSchema,
  streamRow,
  streamsSchema,
  type TableSchema,
  type UserRow,
  userRow,
  usersSchema,
} from "./schema/index.js";
export * from "./stages/index.js";
export {
  CATALOG_BLOB_VERSION,
  type CompiledCatalog,
  decodeCatalog,
  encodeCatalog,
} from "./state/catalog-blob.js";
export {
  DAY_STATE_BLOB_VERSION,
  type DayShard,
  decodeDayShard,
  type ExtraTrack,
  readShardSummary,
  type ShardGenre,
  type ShardSummary,
  type SummarySong,
  sourcesDigest,
} from "./state/day-state.js";
export { dayKpis } from "./state/finalize.js";
export {
  decodePartialDay,
  PARTIAL_BLOB_VERSION,
  type PartialDay,
  type PartialGenre,
  partialToState,
} from "./state/partial.js";
export { MAX_SHARDS, murmur3, shardOf } from "./state/shards.js";
export {
  checkHeader,
  DEFAULT_MAX_BAD_ROW_SHARE,
  type FileRejection,
  type FileRejectionCode,
  type FileReport,
  type RowIssue,
  type RowIssueCode,
  type RowVerdict,
  type ScanOptions,
  type ScanProgress,
  scanTable,
} from "./validate/index.js";
