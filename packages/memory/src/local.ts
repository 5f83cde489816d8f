/**
 * `@musicpipe/memory/local`: the adapters over a local folder only (the object store on the
 * file system and the JSON-file tables), for programs that run the pipeline on a laptop. It
 * loads less than the main entry, whose in-memory object store brings memfs.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/memory/local
 */

export { createLocalObjectStore, type LocalObjectStoreOptions } from "./object-store/local.js";
export { createLocalTables, encodeTableName, type LocalTablesOptions } from "./tables/local.js";
export { TableFormatError, type Tables } from "./tables/shared.js";
export { isProcessAlive, sweepTemporaryFiles, TEMP_FOLDER } from "./temp-files.js";
