import { ConfigurationError, type Metrics } from "@musicpipe/core";
import { serviceFromEnv } from "../service-name.js";
import { documentParts, type EmfUnit, type MetricSet, MetricStore } from "./store.js";

export type { EmfUnit } from "./store.js";

/** Options of {@link createEmfMetrics}. */
export interface EmfMetricsOptions {
  /**
   * The CloudWatch namespace of every metric: 1-255 characters, not starting with `AWS/`.
   * @default `POWERTOOLS_METRICS_NAMESPACE` when set, else `"Musicpipe"`
   */
  readonly namespace?: string | undefined;
  /**
   * The `service` dimension of every metric, the first of each dimension set (as Powertools
   * for AWS Lambda's `Metrics` writes it).
   * @default `POWERTOOLS_SERVICE_NAME` when set, else `"musicpipe"`
   */
  readonly service?: string | undefined;
  /**
   * Dimensions added to every metric after `service` (for example `{ environment: "prod" }`);
   * a dimension given to `count` or `durationMs` with the same name wins. Together with
   * `service`, at most 30.
   * @default {}
   */
  readonly dimensions?: Readonly<Record<string, string>> | undefined;
  /**
   * Receives each EMF document: one JSON object followed by `"\n"`. In Lambda, anything
   * written to standard output reaches CloudWatch Logs, which extracts the metrics.
   * @default (line) => process.stdout.write(line)
   */
  readonly write?: ((line: string) => void) | undefined;
  /**
   * The time source of the documents' `Timestamp` (milliseconds since the epoch).
   * @default Date.now
   */
  readonly now?: (() => number) | undefined;
}

/** {@link Metrics} that buffer in memory until {@link EmfMetrics.flush} writes them. */
export interface EmfMetrics extends Metrics {
  /** Writes one EMF document per dimension set recorded since the last flush, then forgets them. */
  flush(): Promise<void>;
  /** How many metric values wait for the next flush (for tests and diagnostics). */
  readonly pending: number;
}

/** The service dimension of metrics given no `service` and no `POWERTOOLS_SERVICE_NAME`. */
const DEFAULT_SERVICE = "musicpipe";
/** CloudWatch's limits on EMF documents. */
const MAX_DIMENSIONS = 30;
const MAX_METRICS_PER_DOCUMENT = 100;
const MAX_VALUES_PER_METRIC = 100;
const MAX_NAME_LENGTH = 255;
const MAX_DIMENSION_VALUE_LENGTH = 1024;
/** Top-level members of a document that neither a dimension nor a metric may take. */
const RESERVED = new Set(["_aws"]);

function checkName(where: string, what: string, name: unknown): asserts name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH || RESERVED.has(name)) {
    throw new ConfigurationError(
      `${where}: ${what} must be a string of 1-${MAX_NAME_LENGTH} characters other than '_aws', got ${JSON.stringify(name)}`,
    );
  }
}

function checkDimensions(where: string, dimensions: unknown): Record<string, string> {
  if (dimensions === undefined) return {};
  if (typeof dimensions !== "object" || dimensions === null || Array.isArray(dimensions)) {
    throw new ConfigurationError(`${where}: 'dimensions' must be an object of string values`);
  }
  const entries = Object.entries(dimensions);
  if (entries.length > MAX_DIMENSIONS) {
    throw new ConfigurationError(`${where}: at most ${MAX_DIMENSIONS} dimensions, got ${entries.length}`);
  }
  for (const [name, value] of entries) {
    checkName(where, "a dimension name", name);
    if (typeof value !== "string" || value.length === 0 || value.length > MAX_DIMENSION_VALUE_LENGTH) {
      throw new ConfigurationError(
        `${where}: dimension '${name}' must be a string of 1-${MAX_DIMENSION_VALUE_LENGTH} characters, got ${JSON.stringify(value)}`,
      );
    }
  }
  return Object.fromEntries(entries);
}

function namespaceFromEnv(): string | undefined {
  const value = process.env.POWERTOOLS_METRICS_NAMESPACE?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function defaultWrite(line: string): void {
  process.stdout.write(line);
}

/**
 * {@link Metrics} in CloudWatch's Embedded Metric Format (EMF), written as Powertools for AWS
 * Lambda's `Metrics` writes it: values are buffered, and `flush()` writes one JSON document per
 * dimension set (`_aws.Timestamp` in milliseconds, one `CloudWatchMetrics` entry with the
 * `Namespace`, the dimension names and the metrics' `Name` and `Unit`, then the dimension
 * values and the metric values), which CloudWatch Logs turns into metrics without any API call
 * (nothing to retry, no `cloudwatch:PutMetricData` permission).
 *
 * - `count(name, n, dims)` records `n` with unit `Count`, `durationMs(name, ms, dims)` a
 *   sample with unit `Milliseconds`. Every value is kept: several values of one name and
 *   dimension set make an EMF value array (up to 100 per document), so Sum, SampleCount,
 *   Average, Maximum and percentiles stay right.
 * - Every dimension set starts with `service` (the option, else `POWERTOOLS_SERVICE_NAME`,
 *   else `musicpipe`), then the default `dimensions`, then the call's, in the order given.
 *   Dimension values are strings. Values that are not finite numbers are ignored, and so are
 *   calls whose names or dimensions CloudWatch would refuse (metrics must never fail the
 *   pipeline).
 *
 * Options are checked at construction ({@link ConfigurationError}).
 *
 * @example
 * import { createEmfMetrics } from "@musicpipe/aws/metrics";
 *
 * const metrics = createEmfMetrics({ namespace: "Musicpipe", service: "musicpipe-stages" });
 * metrics.count("RowsRead", 1200, { stage: "validate" });
 * metrics.durationMs("StageDuration", 850, { stage: "validate" });
 * await metrics.flush(); // one line on stdout: {"_aws":{...},"service":"musicpipe-stages","stage":"validate","RowsRead":1200,...}
 */
export function createEmfMetrics(options: EmfMetricsOptions = {}): EmfMetrics {
  const where = "createEmfMetrics";
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError(`${where}: options must be an object`);
  }
  const namespace = options.namespace ?? namespaceFromEnv() ?? "Musicpipe";
  if (
    typeof namespace !== "string" ||
    namespace.length === 0 ||
    namespace.length > MAX_NAME_LENGTH ||
    namespace.startsWith("AWS/") ||
    !/^[A-Za-z0-9 .\-_/#:]+$/.test(namespace)
  ) {
    throw new ConfigurationError(
      `${where}: 'namespace' must be 1-${MAX_NAME_LENGTH} characters of A-Z a-z 0-9 . - _ / # : and space, not starting with 'AWS/', got ${JSON.stringify(namespace)}`,
    );
  }
  const service = options.service ?? serviceFromEnv(DEFAULT_SERVICE);
  if (typeof service !== "string" || service.length === 0 || service.length > MAX_DIMENSION_VALUE_LENGTH) {
    throw new ConfigurationError(
      `${where}: 'service' must be a string of 1-${MAX_DIMENSION_VALUE_LENGTH} characters, got ${JSON.stringify(service)}`,
    );
  }
  const defaults = checkDimensions(where, { service, ...checkDimensions(where, options.dimensions) });
  const write = options.write ?? defaultWrite;
  if (typeof write !== "function") throw new ConfigurationError(`${where}: 'write' must be a function`);
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new ConfigurationError(`${where}: 'now' must be a function`);

  const store = new MetricStore();

  function record(unit: EmfUnit, name: string, value: number, dims: Readonly<Record<string, string>> = {}) {
    if (typeof value !== "number" || !Number.isFinite(value)) return;
    let dimensions: Record<string, string>;
    try {
      checkName(where, "a metric name", name);
      dimensions = checkDimensions(where, { ...defaults, ...dims });
    } catch {
      return;
    }
    store.add(dimensions, name, unit, value);
  }

  return {
    count: (name, value, dims) => record("Count", name, value, dims),
    durationMs: (name, ms, dims) => record("Milliseconds", name, ms, dims),
    get pending() {
      return store.pending;
    },
    async flush() {
      const timestamp = now();
      for (const set of store.take()) {
        for (const document of documents(namespace, timestamp, set)) write(`${JSON.stringify(document)}\n`);
      }
    },
  };
}

/** The EMF documents of one dimension set: at most 100 metrics and 100 values each. */
function* documents(
  namespace: string,
  timestamp: number,
  set: MetricSet,
): Generator<Record<string, unknown>> {
  for (const part of documentParts(set, MAX_VALUES_PER_METRIC, MAX_METRICS_PER_DOCUMENT)) {
    yield {
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [Object.keys(set.dimensions)],
            Metrics: part.map(([name, { unit }]) => ({ Name: name, Unit: unit })),
          },
        ],
      },
      ...set.dimensions,
      // One value as a number, several as an EMF value array, as Powertools writes them.
      ...Object.fromEntries(
        part.map(([name, { values }]) => [name, values.length === 1 ? values[0] : values]),
      ),
    };
  }
}
