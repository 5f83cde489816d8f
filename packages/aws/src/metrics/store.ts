/** The units musicpipe records: `count` is `Count`, `durationMs` is `Milliseconds`. */
export type EmfUnit = "Count" | "Milliseconds";

/** Every value of one metric in one dimension set, in the order recorded. */
export interface MetricSeries {
  readonly unit: EmfUnit;
  readonly values: number[];
}

/** The metrics recorded with one dimension set. */
export interface MetricSet {
  /** In the order first given. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** By metric name, in the order first recorded. */
  readonly series: Map<string, MetricSeries>;
}

/**
 * Metric values held until a flush, grouped by dimension set whatever the order the
 * dimensions were given in: what `createEmfMetrics` and `fromPowertoolsMetrics` buffer.
 * @internal
 */
export class MetricStore {
  #sets = new Map<string, MetricSet>();
  #pending = 0;

  /** How many values wait for {@link take}. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Keeps `value` of metric `name` with `dimensions` (already checked). Ignored when a
   * dimension has the metric's name, or when the name was recorded in the other unit (one
   * name, one unit, as CloudWatch and Powertools require: the first wins).
   */
  add(dimensions: Readonly<Record<string, string>>, name: string, unit: EmfUnit, value: number): void {
    if (Object.hasOwn(dimensions, name)) return;
    const id = JSON.stringify(
      Object.keys(dimensions)
        .sort()
        .map((n) => [n, dimensions[n]]),
    );
    let set = this.#sets.get(id);
    if (set === undefined) {
      set = { dimensions, series: new Map() };
      this.#sets.set(id, set);
    }
    const series = set.series.get(name);
    if (series === undefined) set.series.set(name, { unit, values: [value] });
    else if (series.unit !== unit) return;
    else series.values.push(value);
    this.#pending++;
  }

  /** The sets recorded since the last call, forgotten here. */
  take(): MetricSet[] {
    const sets = [...this.#sets.values()];
    this.#sets = new Map();
    this.#pending = 0;
    return sets;
  }
}

/**
 * A set's metrics in the parts one document can hold: at most `maxMetrics` metrics and
 * `maxValues` values of each. A metric with more values goes on in later parts.
 * @internal
 */
export function* documentParts(
  set: MetricSet,
  maxValues: number,
  maxMetrics: number,
): Generator<[name: string, series: MetricSeries][]> {
  const rounds: [string, MetricSeries][][] = [];
  for (const [name, { unit, values }] of set.series) {
    for (let i = 0, round = 0; i < values.length; i += maxValues, round++) {
      const list = rounds[round] ?? [];
      rounds[round] = list;
      list.push([name, { unit, values: values.slice(i, i + maxValues) }]);
    }
  }
  for (const round of rounds) {
    for (let i = 0; i < round.length; i += maxMetrics) yield round.slice(i, i + maxMetrics);
  }
}
