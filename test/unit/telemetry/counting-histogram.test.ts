import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, Registry } from "prom-client";
import { CountingHistogram } from "../../../src/telemetry/counting-histogram.ts";

const BUCKETS = [0.1, 1, 10];
const VALUES = [0, 0.05, 0.1, 0.5, 1, 3, 10, 11, 1e9];

async function scrape(fill: (registry: Registry) => void): Promise<string> {
  const registry = new Registry();
  fill(registry);
  return registry.metrics();
}

test("add() scrapes exactly as prom-client's observe() would", async () => {
  const counted = await scrape((registry) => {
    const h = new CountingHistogram({ name: "latency", help: "h", buckets: BUCKETS, registers: [registry] });
    for (const v of VALUES) h.add(v);
  });
  const observed = await scrape((registry) => {
    const h = new Histogram({ name: "latency", help: "h", buckets: BUCKETS, registers: [registry] });
    for (const v of VALUES) h.observe(v);
  });
  assert.equal(counted, observed);
  assert.match(counted, /latency_bucket\{le="1"\} 5\n/);
  assert.match(counted, /latency_count 9\n/);
});

test("add() and observe() add up; reset() clears both; non-finite values are not counted", async () => {
  const registry = new Registry();
  const h = new CountingHistogram({ name: "latency", help: "h", buckets: [10, 1], registers: [registry] });
  h.add(0.5);
  h.add(Number.NaN);
  h.observe(5);
  let text = await registry.metrics();
  assert.match(text, /latency_bucket\{le="1"\} 1\n/);
  assert.match(text, /latency_bucket\{le="10"\} 2\n/);
  assert.match(text, /latency_sum 5.5\n/);
  assert.match(text, /latency_count 2/);
  const json = await h.get();
  assert.equal(json.values.find((v) => v.metricName === "latency_count")?.value, 2, "get() (JSON) counts both too");
  h.reset();
  text = await registry.metrics();
  assert.match(text, /latency_count 0/);
});

test("labels are refused", () => {
  assert.throws(() => new CountingHistogram({ name: "x", help: "h", buckets: [1], labelNames: ["topic"], registers: [] }), /no labels/);
});
