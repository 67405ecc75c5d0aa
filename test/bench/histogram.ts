/**
 * Quantiles from a Prometheus histogram, the way `histogram_quantile` computes them:
 * linear interpolation inside the bucket that holds the quantile. The result is only
 * as fine as the buckets (0.25 s wide around 1 s for the record latency histogram).
 */
import { metricValues } from "../support/worker.ts";

export interface Histogram {
  /** Cumulative counts by upper bound, ascending; the last bound is +Infinity. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly sum: number;
  readonly count: number;
}

/** The histogram `name` of a scrape, all series summed (it has no labels in our case). */
export function parseHistogram(scrape: string, name: string): Histogram {
  const byLe = new Map<number, number>();
  for (const { labels, value } of metricValues(scrape, `${name}_bucket`)) {
    const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le);
    if (!Number.isNaN(le)) byLe.set(le, (byLe.get(le) ?? 0) + value);
  }
  const sum = metricValues(scrape, `${name}_sum`).reduce((a, s) => a + s.value, 0);
  const count = metricValues(scrape, `${name}_count`).reduce((a, s) => a + s.value, 0);
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, c]) => ({ le, count: c }));
  return { buckets, sum, count };
}

/** `after - before`: what was observed between two scrapes of the same process. */
export function histogramDelta(after: Histogram, before: Histogram): Histogram {
  const earlier = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (earlier.get(b.le) ?? 0) })),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

export interface Quantile {
  readonly q: number;
  /** Seconds; for a quantile in the +Inf bucket, the highest finite bound. */
  readonly seconds: number;
  /** True when the quantile lies beyond the highest finite bound (the value is a lower bound). */
  readonly aboveLastBound: boolean;
  /** The bucket the quantile fell in: the true value lies somewhere in [lower, upper]. */
  readonly bucket: readonly [number, number];
}

export function quantile(histogram: Histogram, q: number): Quantile | undefined {
  const total = histogram.buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of histogram.buckets) {
    if (bucket.count >= rank && bucket.count > lowerCount) {
      if (bucket.le === Number.POSITIVE_INFINITY) {
        return { q, seconds: lowerBound, aboveLastBound: true, bucket: [lowerBound, Number.POSITIVE_INFINITY] };
      }
      const fraction = (rank - lowerCount) / (bucket.count - lowerCount);
      return { q, seconds: lowerBound + fraction * (bucket.le - lowerBound), aboveLastBound: false, bucket: [lowerBound, bucket.le] };
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return undefined;
}
