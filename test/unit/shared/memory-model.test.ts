import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BASE_HEAP_BYTES, describeMemoryPlan, fetchLoweredWarning, HEAP_PER_FETCHED_BYTE, HEAP_SHARE, heapLimitFromFlags, memoryPlan, memoryRefusal, MIN_FETCH_BYTES,
  type MemorySettings,
} from "../../../src/shared/memory-model.ts";

const MIB = 2 ** 20;
/** The launchers' --max-semi-space-size=4 --max-old-space-size=64. */
const SHIPPED_LIMIT = 76 * MIB;

const DEFAULTS: MemorySettings = {
  queueMaxRecords: 10_000, queueMaxBytes: 32 * MIB, kafkaMaxBytes: 10 * MIB, kafkaMaxBytesPerPartition: MIB, bulkMaxBytes: 5 * MIB, bulkWorkers: 2, brokers: 1,
};
/** Issue 17's throughput-tuned configuration, which died of a heap OOM at start on main. */
const TUNED: MemorySettings = { ...DEFAULTS, kafkaMaxBytes: 50 * MIB, kafkaMaxBytesPerPartition: 10 * MIB, queueMaxBytes: 200 * MIB };

describe("memory model", () => {
  test("the fetches of every broker, the queue and the worker fit the planned share of the heap", () => {
    for (const settings of [DEFAULTS, TUNED]) {
      for (const brokers of [1, 3, 6, 12]) {
        const plan = memoryPlan({ ...settings, brokers }, SHIPPED_LIMIT);
        assert.equal(plan.fits, true, `${String(brokers)} brokers`);
        assert.ok(plan.heap.total <= SHIPPED_LIMIT * HEAP_SHARE, describeMemoryPlan(plan));
        assert.equal(plan.heap.fetches, Math.ceil(brokers * plan.fetch.maxBytes * HEAP_PER_FETCHED_BYTE));
        assert.ok(plan.fetch.maxBytesPerPartition <= plan.fetch.maxBytes);
      }
    }
  });

  test("issue 17's tuned configuration gets fetches a fraction of the configured 50 MiB, smaller with more brokers", () => {
    const one = memoryPlan(TUNED, SHIPPED_LIMIT);
    const three = memoryPlan({ ...TUNED, brokers: 3 }, SHIPPED_LIMIT);
    assert.ok(one.fetch.maxBytes < 3 * MIB, describeMemoryPlan(one));
    assert.ok(three.fetch.maxBytes < one.fetch.maxBytes / 2.5);
    assert.equal(one.fetchLoweredForHeap, true);
    const warning = fetchLoweredWarning(one, TUNED) ?? "";
    assert.match(warning, /fetches lowered to 2\.8 MiB per broker \(KAFKA_MAX_BYTES=52428800\)/);
    assert.match(warning, /--max-old-space-size/);
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

  test("a queue the heap cannot hold is refused with one line naming the values", () => {
    const settings = { ...DEFAULTS, queueMaxRecords: 50_000 };
    const plan = memoryPlan(settings, SHIPPED_LIMIT);
    assert.equal(plan.fits, false);
    const line = memoryRefusal(plan, settings) ?? "";
    assert.match(line, /heap limit \(76 MiB\)/);
    assert.match(line, /QUEUE_MAX_RECORDS=50000 needs about 98 MiB of heap/);
    assert.match(line, /--max-old-space-size/);
    assert.doesNotMatch(line, /\n/);
    assert.equal(memoryRefusal(memoryPlan(DEFAULTS, SHIPPED_LIMIT), DEFAULTS), undefined);
    assert.equal(memoryPlan(settings, 2048 * MIB).fits, true);
  });

  test("the model agrees with issue 17's measurement within 15 %: peak heap 205.6 MiB at 50 MiB fetches, 74.1 MiB at 8 MiB", () => {
    const modelled = (fetch: number): number => (BASE_HEAP_BYTES + 10_000 * 2048 + fetch * HEAP_PER_FETCHED_BYTE) / MIB;
    assert.ok(Math.abs(modelled(50 * MIB) / 205.6 - 1) < 0.15, String(modelled(50 * MIB)));
    assert.ok(Math.abs(modelled(8 * MIB) / 74.1 - 1) < 0.15, String(modelled(8 * MIB)));
  });

  test("the heap limit of the launchers' flags: old space plus three semi-spaces", () => {
    assert.equal(heapLimitFromFlags(["--max-semi-space-size=4", "--max-old-space-size=64"]), SHIPPED_LIMIT);
    assert.equal(heapLimitFromFlags(["--max-old-space-size=256", "--max-semi-space-size=8", "--trace-gc"]), 280 * MIB);
    assert.equal(heapLimitFromFlags(["--max-old-space-size=64"]), undefined);
    assert.equal(heapLimitFromFlags([]), undefined);
  });
});
