/**
 * `@musicpipe/aws/metrics`: the `Metrics` port in CloudWatch's Embedded Metric Format. See
 * docs/observability.md.
 *
 * @packageDocumentation
 */
export { createEmfMetrics, type EmfMetrics, type EmfMetricsOptions, type EmfUnit } from "./emf.js";
