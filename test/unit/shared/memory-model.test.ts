import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BASE_HEAP_BYTES, describeMemoryPlan, fetchLoweredWarning, HEAP_BYTES_PER_QUEUED_RECORD, HEAP_PER_FETCHED_BYTE, HEAP_SHARE, heapLimitFromFlags, memoryPlan, memoryRefusal,
  MIN_FETCH_BYTES, oldSpaceFor, YOUNG_GENERATION_BYTES, type MemorySettings,
} from "../../../src/shared/memory-model.ts";
import { SHIPPED_NODE_FLAGS } from "../../support/worker.ts";

const MIB = 2 ** 20;
/** The launchers' --max-semi-space-size=4 --max-old-space-size=96: 108 MiB of heap_size_limit. */
const SHIPPED_LIMIT = heapLimitFromFlags(SHIPPED_NODE_FLAGS.split(" ")) ?? 0;
/** The old space of those flags, which the model plans against. */
const SHIPPED_OLD_SPACE = SHIPPED_LIMIT - YOUNG_GENERATION_BYTES;

const DEFAULTS: MemorySettings = {
  queueMaxRecords: 10_000, queueMaxBytes: 32 * MIB, kafkaMaxBytes: 10 * MIB, kafkaMaxBytesPerPartition: MIB, bulkMaxBytes: 5 * MIB, bulkWorkers: 2, brokers: 1,
};
/** Issue 17's throughput-tuned configuration, which died of a heap OOM at start on main. */
const TUNED: MemorySettings = { ...DEFAULTS, kafkaMaxBytes: 50 * MIB, kafkaMaxBytesPerPartition: 10 * MIB, queueMaxBytes: 200 * MIB };

describe("memory model", () => {
  test("the fetches of every broker, the queue and the worker fit the planned share of the old space", () => {
    assert.equal(SHIPPED_LIMIT, 108 * MIB);
    for (const settings of [DEFAULTS, TUNED]) {
      for (const brokers of [1, 3, 6, 12]) {
        const plan = memoryPlan({ ...settings, brokers }, SHIPPED_LIMIT);
        assert.equal(plan.fits, true, `${String(brokers)} brokers`);
        assert.ok(plan.heap.total <= SHIPPED_OLD_SPACE * HEAP_SHARE, describeMemoryPlan(plan));
        assert.equal(plan.heap.fetches, Math.ceil(brokers * plan.fetch.maxBytes * HEAP_PER_FETCHED_BYTE));
        assert.ok(plan.fetch.maxBytesPerPartition <= plan.fetch.maxBytes);
      }
    }
  });

  test("the young generation is not planned for: held data lives in the old space", () => {
    const plan = memoryPlan(DEFAULTS, 76 * MIB);
    assert.equal(plan.plannedBytes, Math.floor(64 * MIB * HEAP_SHARE));
  });

  test("issue 17's tuned configuration gets fetches a fraction of the configured 50 MiB, smaller with more brokers", () => {
    const one = memoryPlan(TUNED, SHIPPED_LIMIT);
    const three = memoryPlan({ ...TUNED, brokers: 3 }, SHIPPED_LIMIT);
    assert.ok(one.fetch.maxBytes < 12 * MIB, describeMemoryPlan(one));
    assert.ok(three.fetch.maxBytes < one.fetch.maxBytes / 2.5);
    assert.equal(one.fetchLoweredForHeap, true);
    const warning = fetchLoweredWarning(one, TUNED) ?? "";
    assert.match(warning, /fetches lowered to 11 MiB per broker \(KAFKA_MAX_BYTES=52428800\)/);
    assert.match(warning, new RegExp(`--max-old-space-size=${String(oldSpaceFor(TUNED))} allows the configured fetches`));
    assert.doesNotMatch(warning, /\n/);
  });

  test("a larger heap lets the queue's byte budget, shared by the brokers, bound the fetch; never above what was configured", () => {
    const big = 2048 * MIB;
    assert.equal(memoryPlan(TUNED, big).fetch.maxBytes, 50 * MIB, "a quarter of 200 MiB, one broker");
    assert.equal(memoryPlan({ ...TUNED, brokers: 4 }, big).fetch.maxBytes, 12.5 * MIB);
    assert.deepEqual(memoryPlan(DEFAULTS, big).fetch, { maxBytes: 8 * MIB, maxBytesPerPartition: MIB });
    assert.deepEqual(memoryPlan({ ...DEFAULTS, kafkaMaxBytes: 2 * MIB }, big).fetch, { maxBytes: 2 * MIB, maxBytesPerPartition: MIB });
    assert.equal(memoryPlan({ ...DEFAULTS, queueMaxBytes: 1024 }, big).fetch.maxBytes, MIN_FETCH_BYTES, "a tiny budget still fetches 64 KiB");
    assert.equal(fetchLoweredWarning(memoryPlan(TUNED, big), TUNED), undefined);
  });

  test("the buffers in flight add fetches per broker, the queue's record bytes and the bulk bodies", () => {
    const plan = memoryPlan({ ...DEFAULTS, brokers: 3 }, 2048 * MIB);
    assert.deepEqual(plan.buffers, { fetches: 3 * plan.fetch.maxBytes, queue: 32 * MIB, bulk: 10 * MIB, total: 3 * plan.fetch.maxBytes + 42 * MIB });
  });

  test("the old space a configuration needs: its heap without lowered fetches, over the planned share, in steps of 32 MiB", () => {
    assert.equal(oldSpaceFor(DEFAULTS), 96);
    assert.equal(oldSpaceFor({ ...DEFAULTS, brokers: 12 }), 96, "the queue's budget caps all brokers' fetches together");
    assert.equal(oldSpaceFor(TUNED), 256);
    for (const settings of [DEFAULTS, TUNED, { ...TUNED, brokers: 3 }, { ...DEFAULTS, queueMaxRecords: 100_000 }]) {
      const plan = memoryPlan(settings, (oldSpaceFor(settings) * MIB) + YOUNG_GENERATION_BYTES);
      assert.equal(plan.fits, true);
      assert.equal(plan.fetchLoweredForHeap, false, "the named value holds the configured fetches");
    }
  });

  test("a queue the heap cannot hold is refused with one line naming the values and the flag to set", () => {
    const settings = { ...DEFAULTS, queueMaxRecords: 50_000 };
    const plan = memoryPlan(settings, SHIPPED_LIMIT);
    assert.equal(plan.fits, false);
    const line = memoryRefusal(plan, settings) ?? "";
    assert.match(line, /heap limit \(108 MiB\)/);
    assert.match(line, /QUEUE_MAX_RECORDS=50000 needs about 98 MiB of heap/);
    assert.match(line, new RegExp(`start node with --max-old-space-size=${String(oldSpaceFor(settings))} `));
    assert.doesNotMatch(line, /\n/);
    assert.equal(memoryRefusal(memoryPlan(DEFAULTS, SHIPPED_LIMIT), DEFAULTS), undefined);
    assert.equal(memoryPlan(settings, (oldSpaceFor(settings) * MIB) + YOUNG_GENERATION_BYTES).fits, true);
  });

  test("the model bounds the live heaps measured with full fetches and is within 15 % of the peaks (--trace-gc, test/faults/memory-backlog.test.ts)", () => {
    const planned = (fetch: number): number => (BASE_HEAP_BYTES + 10_000 * HEAP_BYTES_PER_QUEUED_RECORD + fetch * HEAP_PER_FETCHED_BYTE) / MIB;
    // [fetch per broker, peak heap used, most left by a full collection] in MiB: 12 partitions of a backlog, 10,000 queued records.
    const measured = [[2.8, 54.4, 42.4], [10.9, 88.0, 75.8], [11.5, 87.6, 74.8], [13, 90.4, 79.5], [27, 126.1, 123.4]] as const;
    for (const [fetch, peak, live] of measured) {
      const plan = planned(fetch * MIB);
      const what = `${String(fetch)} MiB fetches: planned ${plan.toFixed(1)} MiB vs peak ${String(peak)}, live ${String(live)}`;
      assert.ok(plan >= live, what);
      assert.ok(Math.abs(plan / peak - 1) <= 0.15, what);
    }
  });

  test("the heap limit of the launchers' flags: old space plus three semi-spaces", () => {
    assert.equal(heapLimitFromFlags(["--max-semi-space-size=4", "--max-old-space-size=96"]), 108 * MIB);
    assert.equal(heapLimitFromFlags(["--max-old-space-size=256", "--max-semi-space-size=8", "--trace-gc"]), 280 * MIB);
    assert.equal(heapLimitFromFlags(["--max-old-space-size=64"]), undefined);
    assert.equal(heapLimitFromFlags([]), undefined);
  });
});
