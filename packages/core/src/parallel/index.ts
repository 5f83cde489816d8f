/**
 * `@musicpipe/core/parallel`: the KPI computation on worker threads. Separate from the root
 * entry so that code which never starts threads (a Lambda stage) does not load it.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/core/parallel
 */
export { computeKpisParallel, type ParallelKpiOptions } from "./compute.js";
export { KpiWorkerPool, LazyWorkerPool, type StreamsScanned } from "./pool.js";
export type { CatalogFileOptions } from "./protocol.js";
