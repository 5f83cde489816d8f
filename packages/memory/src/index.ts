/**
 * `@musicpipe/memory`: in-memory and local-folder adapters of the musicpipe ports, and fault
 * injection for crash tests. The conformance suites live in `@musicpipe/memory/conformance`.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/memory
 */

export { createFaultInjector, type FaultInjector, InjectedFault } from "./faults/index.js";
export { createLocalObjectStore, type LocalObjectStoreOptions } from "./object-store/local.js";
export { createMemoryObjectStore, type MemoryObjectStoreOptions } from "./object-store/memory.js";
export { createLocalTables, encodeTableName, type LocalTablesOptions } from "./tables/local.js";
export { createMemoryTables } from "./tables/memory.js";
export { TableFormatError, type Tables } from "./tables/shared.js";
export { isProcessAlive, sweepTemporaryFiles, TEMP_FOLDER } from "./temp-files.js";
