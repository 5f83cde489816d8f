/**
 * `@musicpipe/aws/dynamodb`: the musicpipe table ports (KPIs, file status, partials index, day
 * state pointers) on DynamoDB, table creation, and a BatchWriteItem helper that retries
 * unprocessed items.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/aws/dynamodb
 */

export {
  BATCH_WRITE_LIMIT,
  BatchWriteIncompleteError,
  type BatchWriteOptions,
  type BatchWriteRequest,
  type BatchWriteRequests,
  type BatchWriteSender,
  batchWriteAll,
  type UnwrittenRequest,
} from "./batch.js";
export {
  type EnsureTablesOptions,
  type EnsureTablesResult,
  ensureTables,
  TABLE_KEYS,
  UNFINISHED_INDEX,
} from "./ensure.js";
export { TableItemFormatError } from "./items.js";
export { DEFAULT_TABLE_NAMES, type TableNames } from "./options.js";
export { createDynamoDbTables, type DynamoDbTables, type DynamoDbTablesOptions } from "./tables.js";
