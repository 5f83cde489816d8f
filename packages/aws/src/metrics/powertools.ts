import type { Metrics } from "@musicpipe/core";
import { expectMethods } from "../powertools-shape.js";
import { documentParts, type EmfUnit, MetricStore } from "./store.js";

/**
 * The methods of a Powertools for AWS Lambda `Metrics` (`@aws-lambda-powertools/metrics`, v2)
 * that {@link fromPowertoolsMetrics} calls. Written out here so that `@musicpipe/aws` needs no
 * Powertools at run time or in its types: a Powertools `Metrics` is one of these.
 */
export interface PowertoolsMetricsLike {
  /** Adds a dimension to the metrics stored until the next publish. */
  addDimension(name: string, value: string): unknown;
  /** Stores a value of metric `name` in `unit` (`MetricUnit.Count`, `MetricUnit.Milliseconds`). */
  addMetric(name: string, unit: "Count" | "Milliseconds", value: number): unknown;
  /** Writes the stored metrics as one EMF document and forgets them and the dimensions. */
  publishStoredMetrics(): unknown;
  /** `true` when metrics are stored (Powertools warns when it publishes none). */
  hasStoredMetrics?(): boolean;
  /** Forgets the dimensions added since the last publish. */
  clearDimensions?(): unknown;
}

/** The {@link Metrics} made by {@link fromPowertoolsMetrics}. */
export interface PowertoolsMetricsAdapter extends Metrics {
  /** Publishes what was recorded since the last flush through the Powertools `Metrics`. */
  flush(): Promise<void>;
  /** How many metric values wait for the next flush (for tests and diagnostics). */
  readonly pending: number;
  /** The Powertools `Metrics` the documents are written through. */
  readonly powertools: PowertoolsMetricsLike;
}

/** CloudWatch's and Powertools' limits on one document. */
const MAX_METRICS_PER_DOCUMENT = 100;
/**
 * Powertools publishes by itself when a metric reaches 100 values, clearing the dimensions
 * before the rest of the set is stored: 99 values per metric keep each set in its own documents.
 */
const MAX_VALUES_PER_METRIC = 99;
/** Powertools' own `service` and 29 more. */
const MAX_DIMENSIONS = 29;
const MAX_NAME_LENGTH = 255;

const isName = (name: unknown): name is string =>
  typeof name === "string" && name.length > 0 && name.length <= MAX_NAME_LENGTH && name !== "_aws";

/** The call's dimensions when CloudWatch and Powertools would take them, `undefined` otherwise. */
function cleanDimensions(dimensions: unknown): Record<string, string> | undefined {
  if (dimensions === undefined) return {};
  if (typeof dimensions !== "object" || dimensions === null || Array.isArray(dimensions)) return undefined;
  const entries = Object.entries(dimensions);
  if (entries.length > MAX_DIMENSIONS) return undefined;
  for (const [name, value] of entries) {
    if (!isName(name) || typeof value !== "string" || value.length === 0 || value.length > 1024) {
      return undefined;
    }
  }
  return Object.fromEntries(entries);
}

/**
 * Our {@link Metrics} port on top of a Powertools for AWS Lambda `Metrics`, for a function that
 * already configures one (its namespace, service, default dimensions, `POWERTOOLS_METRICS_*`
 * variables): musicpipe's metrics then come out of your `Metrics`, in its documents.
 *
 * - `count(name, n, dims)` is `addMetric(name, MetricUnit.Count, n)`, `durationMs(name, ms,
 *   dims)` is `addMetric(name, MetricUnit.Milliseconds, ms)`; both are kept until `flush`.
 * - The port gives each call its own dimensions, while a Powertools `Metrics` has one set of
 *   dimensions per publish. So `flush()` publishes once per dimension set: `addDimension` for
 *   each of the set's dimensions (after the instance's `service` and default dimensions), the
 *   set's metrics (`addMetric`, every value), then `publishStoredMetrics()`. Metrics you stored
 *   on the instance yourself are published first, with the dimensions you gave them; a flush
 *   with nothing to publish calls nothing (Powertools would warn "No application metrics to
 *   publish"). Dimensions for every metric belong in the instance's default dimensions.
 * - Values that are not finite numbers, and names or dimensions CloudWatch would refuse, are
 *   ignored, and a Powertools call that throws is caught: metrics never fail the pipeline.
 *
 * The function is typed structurally ({@link PowertoolsMetricsLike}); `@musicpipe/aws` does
 * not depend on Powertools.
 *
 * @example
 * ```ts
 * import { Metrics } from "@aws-lambda-powertools/metrics";
 * import { createStageHandler } from "@musicpipe/aws/lambda";
 * import { fromPowertoolsMetrics } from "@musicpipe/aws/metrics";
 *
 * export const handler = createStageHandler({
 *   metrics: fromPowertoolsMetrics(new Metrics({ namespace: "Musicpipe", serviceName: "musicpipe-stages" })),
 * });
 * ```
 */
export function fromPowertoolsMetrics(metrics: PowertoolsMetricsLike): PowertoolsMetricsAdapter {
  const methods = ["addDimension", "addMetric", "publishStoredMetrics"] as const;
  expectMethods("fromPowertoolsMetrics", "a Powertools Metrics", metrics, methods);
  const store = new MetricStore();

  function record(unit: EmfUnit, name: string, value: number, dims?: Readonly<Record<string, string>>) {
    if (typeof value !== "number" || !Number.isFinite(value) || !isName(name)) return;
    const dimensions = cleanDimensions(dims);
    if (dimensions !== undefined) store.add(dimensions, name, unit, value);
  }

  const has = (): boolean | undefined => {
    try {
      return typeof metrics.hasStoredMetrics === "function" ? metrics.hasStoredMetrics() : undefined;
    } catch {
      return undefined;
    }
  };
  const publish = () => {
    try {
      metrics.publishStoredMetrics();
    } catch {
      // Metrics never fail the pipeline.
    }
  };

  const clearDimensions = () => {
    try {
      metrics.clearDimensions?.();
    } catch {
      // Metrics never fail the pipeline.
    }
  };

  return {
    powertools: metrics,
    count: (name, value, dims) => record("Count", name, value, dims),
    durationMs: (name, ms, dims) => record("Milliseconds", name, ms, dims),
    get pending() {
      return store.pending;
    },
    async flush() {
      const toPublish = store.take();
      // Metrics stored on the instance by other code go out with their own dimensions.
      if (has() === true) publish();
      for (const group of toPublish) {
        for (const part of documentParts(group, MAX_VALUES_PER_METRIC, MAX_METRICS_PER_DOCUMENT)) {
          try {
            for (const [name, value] of Object.entries(group.dimensions)) metrics.addDimension(name, value);
            for (const [name, { unit, values }] of part) {
              for (const value of values) metrics.addMetric(name, unit, value);
            }
          } catch {
            // Published as far as Powertools took it; the publish below clears the rest.
          }
          if (has() !== false) publish();
          else clearDimensions();
        }
      }
    },
  };
}
