/**
 * `@musicpipe/aws/metrics`: the `Metrics` port in CloudWatch's Embedded Metric Format (as
 * Powertools for AWS Lambda writes it), and an adapter for a Powertools `Metrics` of your own.
 * See docs/observability.md.
 *
 * @packageDocumentation
 *
 * @module @musicpipe/aws/metrics
 */
export { createEmfMetrics, type EmfMetrics, type EmfMetricsOptions, type EmfUnit } from "./emf.js";
export {
  fromPowertoolsMetrics,
  type PowertoolsMetricsAdapter,
  type PowertoolsMetricsLike,
} from "./powertools.js";
