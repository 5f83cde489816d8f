/**
 * `@musicpipe/aws/metrics`: the `Metrics` port in CloudWatch's Embedded Metric Format. See
 * docs/observability.md.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/aws/metrics
 */
export { createEmfMetrics, type EmfMetrics, type EmfMetricsOptions, type EmfUnit } from "./emf.js";
