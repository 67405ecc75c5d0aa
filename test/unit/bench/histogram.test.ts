import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { histogramDelta, parseHistogram, quantile, type Histogram } from "../../bench/histogram.ts";

const SCRAPE = `# HELP x_seconds help
# TYPE x_seconds histogram
x_seconds_bucket{le="0.1"} 10
x_seconds_bucket{le="0.5"} 60
x_seconds_bucket{le="1"} 90
x_seconds_bucket{le="+Inf"} 100
x_seconds_sum 42.5
x_seconds_count 100
`;

describe("parseHistogram", () => {
  test("reads cumulative buckets, sum and count", () => {
    const h = parseHistogram(SCRAPE, "x_seconds");
    assert.deepEqual(h.buckets.map((b) => [b.le, b.count]), [[0.1, 10], [0.5, 60], [1, 90], [Number.POSITIVE_INFINITY, 100]]);
    assert.equal(h.sum, 42.5);
    assert.equal(h.count, 100);
  });
});

describe("quantile", () => {
  const h = parseHistogram(SCRAPE, "x_seconds");
  test("interpolates linearly inside the bucket, as histogram_quantile does", () => {
    // rank 50 lies 40/50 of the way through the (0.1, 0.5] bucket.
    const q = quantile(h, 0.5);
    assert.ok(q);
    assert.ok(Math.abs(q.seconds - (0.1 + 0.8 * 0.4)) < 1e-9);
    assert.deepEqual(q.bucket, [0.1, 0.5]);
    assert.equal(q.aboveLastBound, false);
  });
  test("the first bucket starts at 0", () => {
    const q = quantile(h, 0.05);
    assert.ok(q);
    assert.ok(Math.abs(q.seconds - 0.05) < 1e-9);
  });
  test("a quantile in the +Inf bucket is reported as the last finite bound, flagged", () => {
    const q = quantile(h, 0.95);
    assert.ok(q);
    assert.equal(q.seconds, 1);
    assert.equal(q.aboveLastBound, true);
  });
  test("an empty histogram has no quantile", () => {
    assert.equal(quantile({ buckets: [{ le: 1, count: 0 }, { le: Number.POSITIVE_INFINITY, count: 0 }], sum: 0, count: 0 }, 0.5), undefined);
  });
  test("skips empty buckets below the rank", () => {
    const sparse: Histogram = { buckets: [{ le: 0.1, count: 0 }, { le: 0.25, count: 0 }, { le: 0.5, count: 4 }, { le: Number.POSITIVE_INFINITY, count: 4 }], sum: 1, count: 4 };
    const q = quantile(sparse, 0.99);
    assert.ok(q);
    assert.deepEqual(q.bucket, [0.25, 0.5]);
  });
});

describe("histogramDelta", () => {
  test("subtracts an earlier scrape bucket by bucket", () => {
    const after = parseHistogram(SCRAPE, "x_seconds");
    const before: Histogram = { buckets: [{ le: 0.1, count: 5 }, { le: 0.5, count: 10 }, { le: 1, count: 10 }, { le: Number.POSITIVE_INFINITY, count: 10 }], sum: 2.5, count: 10 };
    const d = histogramDelta(after, before);
    assert.deepEqual(d.buckets.map((b) => b.count), [5, 50, 80, 90]);
    assert.equal(d.count, 90);
    assert.equal(d.sum, 40);
  });
});
