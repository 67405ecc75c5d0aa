import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { memoryBounds, type BenchReport } from "../../bench/report.ts";

const MIB = 2 ** 20;

function defaults(queueMaxBytes: number, fetchMaxBytes: number): BenchReport["workerDefaults"] {
  return {
    queue: { maxRecords: 10_000, maxBytes: queueMaxBytes, lowWatermarkRatio: 0.5 },
    bulk: { workers: 4, maxDocuments: 2_000, maxBytes: 5 * MIB },
    kafka: { partitionsConsumedConcurrently: 1, maxBytesPerPartition: fetchMaxBytes, maxBytes: fetchMaxBytes, maxWaitTimeMs: 100, commitIntervalMs: 1_000, lagIntervalMs: 5_000 },
  } as unknown as BenchReport["workerDefaults"];
}

describe("memoryBounds", () => {
  test("names the heap flags, the queue budget with the fetch it may overshoot by, and the bulk bodies in flight", () => {
    const text = memoryBounds(defaults(32 * MIB, 50 * MIB), ["--max-semi-space-size=4", "--max-old-space-size=64", "--trace-gc"]);
    assert.match(text, /V8 heap: --max-semi-space-size=4 --max-old-space-size=64;/);
    assert.doesNotMatch(text, /trace-gc/);
    assert.match(text, /10,000 records \/ 32 MiB/);
    assert.match(text, /one fetch of at most 8 MiB/, "the fetch is capped at a quarter of the queue budget");
    assert.match(text, /4 requests in flight, each at most 2,000 documents \/ 5 MiB/);
  });

  test("says when the worker ran without a heap limit", () => {
    assert.match(memoryBounds(defaults(32 * MIB, 1 * MIB), []), /no limit flag/);
    assert.match(memoryBounds(defaults(32 * MIB, 1 * MIB), []), /one fetch of at most 1 MiB/);
  });
});
