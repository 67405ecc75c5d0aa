import { Histogram, type HistogramConfiguration, type MetricObjectWithValues, type MetricValueWithName } from "prom-client";

/** prom-client's own (untyped) source of the exposition values. */
const promStringOf = (Histogram.prototype as unknown as { getForPromString: (this: Histogram) => Promise<MetricObjectWithValues<MetricValueWithName<string>>> }).getForPromString;

/**
 * A histogram without labels for a value observed once per record (the record
 * latency): `add` counts into plain arrays, and the counts join prom-client's own at
 * scrape time (`get`). prom-client's `observe` builds a label object, validates and
 * hashes it and looks the bucket up by its bound as a property name on every call:
 * a measurable share of the worker's CPU at ten thousand records a second, for a value
 * read once per scrape. `observe` still works, and both kinds of observation add up.
 */
export class CountingHistogram extends Histogram {
  readonly #bounds: readonly number[];
  /** Per bucket, not cumulative: counts[i] for values <= bounds[i] and > bounds[i - 1]; the last is +Inf. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(config: HistogramConfiguration<string> & { readonly buckets: number[] }) {
    if (config.labelNames !== undefined && config.labelNames.length > 0) throw new TypeError(`${config.name}: a CountingHistogram has no labels`);
    const bounds = [...config.buckets].sort((a, b) => a - b);
    super({ ...config, buckets: bounds });
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /** Observes one value (a finite number; anything else is not counted). */
  add(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] ?? 0)) i++;
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#sum += value;
    this.#count += 1;
  }

  /**
   * prom-client's values with this histogram's counts added. Both the exposition text
   * (the registry calls this) and `get()` (which calls this) read through it.
   */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const metric = await promStringOf.call(this);
    const name = metric.name;
    let bucket = 0;
    let cumulative = 0;
    const values = metric.values.map((entry) => {
      if (entry.metricName === `${name}_bucket`) {
        cumulative += this.#counts[bucket++] ?? 0;
        return { ...entry, value: entry.value + cumulative };
      }
      if (entry.metricName === `${name}_sum`) return { ...entry, value: entry.value + this.#sum };
      if (entry.metricName === `${name}_count`) return { ...entry, value: entry.value + this.#count };
      return entry;
    });
    return { ...metric, values };
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before this class's fields exist.
    if (!(#counts in this)) return;
    // Keeps the zero series prom-client drops on reset (it brings it back on the next observe()).
    this.zero({});
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }
}
