import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { memoryBounds, memoryModelCheck, type BenchReport } from "../../bench/report.ts";

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
    // A quarter of the queue budget would be 8 MiB; the 64 MiB old space left beside 10,000 queued records sets 1.9 MiB.
    assert.match(text, /one fetch per broker of at most 1\.9 MiB/);
    assert.match(text, /model: heap: \d+ of 76 MiB planned/);
    assert.match(text, /4 requests in flight, each at most 2,000 documents \/ 5 MiB/);
  });

  test("says when the worker ran without a heap limit", () => {
    assert.match(memoryBounds(defaults(32 * MIB, 1 * MIB), []), /no limit flag/);
    assert.match(memoryBounds(defaults(32 * MIB, 1 * MIB), [], 1, 4096 * MIB), /one fetch per broker of at most 1 MiB/);
    assert.match(memoryBounds(defaults(32 * MIB, 50 * MIB), [], 1, 4096 * MIB), /one fetch per broker of at most 8 MiB/, "the queue budget caps the fetch when the heap is large");
  });

  test("the model's planned heap beside the peak heap the worker's --trace-gc showed, as a ratio", () => {
    const flags = ["--max-semi-space-size=4", "--max-old-space-size=96"];
    const gc = { collections: 10, peakHeapMiB: 50, liveAfterFullGcMiB: 34, pauseSeconds: 1 };
    // 32 MiB base + 10,000 x 2 KiB + 8 MiB x 3.2 = 77.1 MiB.
    assert.equal(memoryModelCheck(defaults(32 * MIB, 10 * MIB), flags, gc), "planned heap 77.1 MiB vs measured peak heap 50.0 MiB (ratio 1.54), live after a full collection at most 34.0 MiB");
    assert.match(memoryModelCheck(defaults(32 * MIB, 10 * MIB), flags, undefined), /n\/a/);
  });
});
