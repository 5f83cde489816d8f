/**
 * `@musicpipe/memory/conformance`: one vitest suite per port. Every adapter of a port must
 * pass its suite; call the suite from a test file with a factory of the adapter under test.
 *
 * @example
 * import { runObjectStoreConformance } from "@musicpipe/memory/conformance";
 * runObjectStoreConformance({ name: "s3", create: () => createS3ObjectStore({ bucket }) });
 *
 * @packageDocumentation
 *
 * @module @musicpipe/memory/conformance
 */

export {
  type ObjectStoreCapabilities,
  type ObjectStoreConformanceOptions,
  runObjectStoreConformance,
} from "./object-store.js";
export {
  type DayStateStoreConformanceOptions,
  type FileStatusStoreConformanceOptions,
  type KpiStoreConformanceOptions,
  type PartialStoreConformanceOptions,
  runDayStateStoreConformance,
  runFileStatusStoreConformance,
  runKpiStoreConformance,
  runPartialStoreConformance,
  type TableConformanceOptions,
} from "./tables.js";
