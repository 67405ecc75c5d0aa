import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BoundedQueue } from "../../../src/pipeline/bounded-queue.ts";
import type { BoundedQueueOptions } from "../../../src/pipeline/bounded-queue.ts";
import { ConfigError } from "../../../src/errors.ts";

interface Item {
  readonly id: number;
  readonly size: number;
  readonly partition?: number;
}

function items(count: number, size = 10, from = 0): Item[] {
  return Array.from({ length: count }, (_, i) => ({ id: from + i, size }));
}

function queue(options: Partial<BoundedQueueOptions> = {}): BoundedQueue<Item> {
  return new BoundedQueue<Item>(
    { maxRecords: 100, maxBytes: 1_000_000, lowWatermarkRatio: 0.5, ...options },
    (item) => item.size,
  );
}

function ids(list: readonly Item[]): number[] {
  return list.map((item) => item.id);
}

/** Settles once the promise resolves or `ms` pass; tells which. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => { resolve(false); }, ms);
  });
  const result = await Promise.race([promise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}

void describe("BoundedQueue: options", () => {
  void test("rejects invalid options with a ConfigError", () => {
    assert.throws(() => queue({ maxRecords: 0 }), ConfigError);
    assert.throws(() => queue({ maxRecords: 1.5 }), ConfigError);
    assert.throws(() => queue({ maxBytes: 0 }), ConfigError);
    assert.throws(() => queue({ maxBytes: Number.POSITIVE_INFINITY }), ConfigError);
    assert.throws(() => queue({ lowWatermarkRatio: 1 }), ConfigError);
    assert.throws(() => queue({ lowWatermarkRatio: -0.1 }), ConfigError);
    assert.throws(() => queue({ lowWatermarkRatio: Number.NaN }), ConfigError);
  });
});

void describe("BoundedQueue: push and take", () => {
  void test("starts empty", () => {
    const q = queue();
    assert.equal(q.waiting, 0);
    assert.equal(q.waitingBytes, 0);
    assert.equal(q.outstanding, 0);
    assert.equal(q.outstandingBytes, 0);
    assert.equal(q.saturated, false);
    assert.deepEqual(q.take(10, 100), []);
  });

  void test("FIFO order; accounting of waiting and outstanding", () => {
    const q = queue();
    q.push(items(5, 10));
    q.push([]);
    assert.equal(q.waiting, 5);
    assert.equal(q.waitingBytes, 50);
    const first = q.take(2, 1000);
    assert.deepEqual(ids(first), [0, 1]);
    assert.equal(q.waiting, 3);
    assert.equal(q.waitingBytes, 30);
    assert.equal(q.outstanding, 5, "taken items stay outstanding until released");
    assert.equal(q.outstandingBytes, 50);
    assert.deepEqual(ids(q.take(10, 1000)), [2, 3, 4]);
    assert.equal(q.waiting, 0);
    assert.equal(q.waitingBytes, 0);
    assert.equal(q.outstanding, 5);
  });

  void test("take is bounded by count", () => {
    const q = queue();
    q.push(items(10));
    assert.equal(q.take(3, 1_000_000).length, 3);
    assert.equal(q.take(0, 1_000_000).length, 0);
    assert.equal(q.waiting, 7);
  });

  void test("take is bounded by bytes, stopping before the item that would exceed", () => {
    const q = queue();
    q.push([
      { id: 0, size: 40 },
      { id: 1, size: 40 },
      { id: 2, size: 40 },
      { id: 3, size: 5 },
    ]);
    assert.deepEqual(ids(q.take(10, 100)), [0, 1], "never skips ahead to the small item");
    assert.deepEqual(ids(q.take(10, 45)), [2, 3], "exact fit is allowed");
  });

  void test("an item larger than maxBytes is still taken, alone", () => {
    const q = queue();
    q.push([
      { id: 0, size: 500 },
      { id: 1, size: 1 },
    ]);
    assert.deepEqual(ids(q.take(10, 100)), [0]);
    assert.deepEqual(ids(q.take(10, 100)), [1]);
  });

  void test("grows past its initial capacity and wraps around, keeping order", () => {
    const q = queue({ maxRecords: 1_000_000 });
    let next = 0;
    let expected = 0;
    // Interleave pushes and takes so the ring wraps several times before growing.
    for (let round = 0; round < 50; round += 1) {
      q.push(items(300, 1, next));
      next += 300;
      const taken = q.take(250, Number.POSITIVE_INFINITY);
      for (const item of taken) {
        assert.equal(item.id, expected);
        expected += 1;
      }
    }
    const rest = q.take(1_000_000, Number.POSITIVE_INFINITY);
    for (const item of rest) {
      assert.equal(item.id, expected);
      expected += 1;
    }
    assert.equal(expected, next);
    assert.equal(q.waiting, 0);
    assert.equal(q.waitingBytes, 0);
  });

  void test("one very large push (beyond twice the capacity) keeps order", () => {
    const q = queue({ maxRecords: 1_000_000 });
    q.push(items(3));
    q.take(2, 100);
    q.push(items(5000, 1, 3));
    const all = q.take(10_000, Number.POSITIVE_INFINITY);
    assert.deepEqual(ids(all), Array.from({ length: 5001 }, (_, i) => i + 2));
  });

  void test("sizeOf is called once per item, at push", () => {
    let calls = 0;
    const q = new BoundedQueue<number>({ maxRecords: 10, maxBytes: 100, lowWatermarkRatio: 0.5 }, (n) => {
      calls += 1;
      return n;
    });
    q.push([1, 2, 3]);
    q.take(10, 100);
    q.discard(() => true);
    assert.equal(calls, 3);
  });
});

void describe("BoundedQueue: release", () => {
  void test("frees the budget of settled items", () => {
    const q = queue();
    q.push(items(4, 10));
    q.take(4, 1000);
    q.release(20, 2);
    assert.equal(q.outstanding, 2);
    assert.equal(q.outstandingBytes, 20);
    q.release(10);
    assert.equal(q.outstanding, 1);
    assert.equal(q.outstandingBytes, 10);
  });

  void test("never goes negative, whatever the caller releases", () => {
    const q = queue();
    q.push(items(2, 10));
    q.take(2, 1000);
    q.release(1000, 1); // more bytes than outstanding
    assert.equal(q.outstanding, 1);
    assert.equal(q.outstandingBytes, 0);
    q.release(10, 5); // more items than outstanding
    assert.equal(q.outstanding, 0);
    assert.equal(q.outstandingBytes, 0);
    q.release(10, 1);
    q.release(-10, -3); // nonsense is ignored, not added
    assert.equal(q.outstanding, 0);
    assert.equal(q.outstandingBytes, 0);
  });

  void test("bytes reset to zero once nothing is outstanding (no drift)", () => {
    const q = queue();
    q.push([
      { id: 0, size: 0.1 },
      { id: 1, size: 0.2 },
    ]);
    q.take(2, 10);
    q.release(0.1);
    q.release(0.2);
    assert.equal(q.outstandingBytes, 0);
  });
});

void describe("BoundedQueue: saturation", () => {
  void test("saturates at the record limit and clears only at the low watermark", () => {
    const q = queue({ maxRecords: 10, lowWatermarkRatio: 0.5 });
    const changes: boolean[] = [];
    q.onSaturationChange((s) => changes.push(s));
    q.push(items(9));
    assert.equal(q.saturated, false);
    q.push(items(1));
    assert.equal(q.saturated, true);
    q.take(10, Number.POSITIVE_INFINITY);
    assert.equal(q.saturated, true, "taking does not free budget");
    q.release(10, 4); // 6 left: between low (5) and high (10)
    assert.equal(q.saturated, true, "hysteresis: still saturated above the low watermark");
    q.push(items(1)); // 7
    q.release(20, 2); // 5: at the low watermark
    assert.equal(q.saturated, false);
    q.push(items(4)); // 9: below high again
    assert.equal(q.saturated, false, "hysteresis: not saturated until the high watermark");
    q.push(items(1));
    assert.equal(q.saturated, true);
    assert.deepEqual(changes, [true, false, true]);
  });

  void test("saturates at the byte limit; clearing needs bytes AND records at or below low", () => {
    const q = queue({ maxRecords: 10, maxBytes: 100, lowWatermarkRatio: 0.5 });
    q.push([{ id: 0, size: 100 }]);
    assert.equal(q.saturated, true, "one record, but the byte limit is reached");
    q.push(items(8, 0)); // 9 records, 100 bytes
    q.take(100, Number.POSITIVE_INFINITY);
    q.release(100, 1); // 8 records (above low 5), 0 bytes
    assert.equal(q.saturated, true);
    q.release(0, 3); // 5 records
    assert.equal(q.saturated, false);
  });

  void test("a single push may overshoot the limits by a whole batch", () => {
    const q = queue({ maxRecords: 10 });
    q.push(items(25));
    assert.equal(q.outstanding, 25);
    assert.equal(q.saturated, true);
  });

  void test("a low watermark ratio of 0 resumes only when empty", () => {
    const q = queue({ maxRecords: 2, lowWatermarkRatio: 0 });
    q.push(items(2));
    q.take(2, 1000);
    q.release(10);
    assert.equal(q.saturated, true);
    q.release(10);
    assert.equal(q.saturated, false);
  });

  void test("listeners are told only on changes, and can unsubscribe", () => {
    const q = queue({ maxRecords: 2 });
    const seen: boolean[] = [];
    const unsubscribe = q.onSaturationChange((s) => seen.push(s));
    q.push(items(2));
    q.push(items(2));
    unsubscribe();
    q.take(4, 1000);
    q.release(40, 4);
    assert.deepEqual(seen, [true]);
    assert.equal(q.saturated, false);
  });

  void test("discard can clear saturation", () => {
    const q = queue({ maxRecords: 4 });
    const seen: boolean[] = [];
    q.onSaturationChange((s) => seen.push(s));
    q.push(items(4));
    q.discard(() => true);
    assert.deepEqual(seen, [true, false]);
  });
});

void describe("BoundedQueue: discard", () => {
  void test("removes matching waiting items, keeps order, releases their budget", () => {
    const q = queue();
    const batch = Array.from({ length: 10 }, (_, i) => ({ id: i, size: i + 1, partition: i % 3 }));
    q.push(batch);
    const inFlight = q.take(2, 1000); // ids 0, 1 (partitions 0, 1): untouched by discard
    const removed = q.discard((item) => item.partition === 1);
    assert.deepEqual(ids(removed), [4, 7]);
    assert.equal(q.waiting, 6);
    assert.equal(q.waitingBytes, 55 - 3 - 5 - 8);
    assert.equal(q.outstanding, 8);
    assert.equal(q.outstandingBytes, 55 - 5 - 8);
    assert.deepEqual(ids(q.take(100, 1000)), [2, 3, 5, 6, 8, 9]);
    assert.deepEqual(ids(inFlight), [0, 1]);
  });

  void test("works across the wrap-around of the ring", () => {
    const q = queue({ maxRecords: 1_000_000 });
    q.push(items(1000));
    q.take(900, Number.POSITIVE_INFINITY);
    q.push(items(500, 10, 1000)); // wraps past the end of the initial 1024 slots
    const removed = q.discard((item) => item.id % 2 === 0);
    assert.equal(removed.length, 300);
    const rest = q.take(10_000, Number.POSITIVE_INFINITY);
    assert.deepEqual(
      ids(rest),
      Array.from({ length: 600 }, (_, i) => 900 + i).filter((id) => id % 2 === 1),
    );
    q.push(items(3, 10, 5000));
    assert.deepEqual(ids(q.take(10, 1000)), [5000, 5001, 5002]);
  });

  void test("nothing matches: nothing changes", () => {
    const q = queue();
    q.push(items(3));
    assert.deepEqual(q.discard(() => false), []);
    assert.equal(q.waiting, 3);
    assert.equal(q.outstanding, 3);
  });

  void test("everything matches on an empty queue: nothing to do", () => {
    const q = queue();
    assert.deepEqual(q.discard(() => true), []);
    assert.equal(q.outstanding, 0);
  });
});

void describe("BoundedQueue: waitForItems", () => {
  void test("resolves at once when items are waiting", async () => {
    const q = queue();
    q.push(items(1));
    assert.equal(await settlesWithin(q.waitForItems(60_000), 50), true);
  });

  void test("resolves on push", async () => {
    const q = queue();
    const a = q.waitForItems(60_000);
    const b = q.waitForItems(60_000);
    setTimeout(() => { q.push(items(1)); }, 5);
    assert.equal(await settlesWithin(Promise.all([a, b]), 1000), true);
    assert.equal(q.waiting, 1);
  });

  void test("resolves after the timeout when nothing comes", async () => {
    const q = queue();
    const started = Date.now();
    await q.waitForItems(30);
    assert.ok(Date.now() - started >= 25);
    assert.equal(q.waiting, 0);
  });

  void test("resolves when the signal aborts, and at once if already aborted", async () => {
    const q = queue();
    const controller = new AbortController();
    const waiting = q.waitForItems(60_000, controller.signal);
    setTimeout(() => { controller.abort(); }, 5);
    assert.equal(await settlesWithin(waiting, 1000), true);
    assert.equal(await settlesWithin(q.waitForItems(60_000, AbortSignal.abort()), 50), true);
  });

  void test("a huge timeout does not fire at once (setTimeout overflow)", async () => {
    const q = queue();
    const controller = new AbortController();
    const waiting = q.waitForItems(Number.MAX_SAFE_INTEGER, controller.signal);
    assert.equal(await settlesWithin(waiting, 30), false);
    controller.abort();
    await waiting;
  });

  void test("does not leak abort listeners across many waits", async () => {
    const q = queue();
    const controller = new AbortController();
    let added = 0;
    let removed = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<AbortSignal["addEventListener"]>) => {
      added += 1;
      add(...args);
    };
    signal.removeEventListener = (...args: Parameters<AbortSignal["removeEventListener"]>) => {
      removed += 1;
      remove(...args);
    };
    for (let i = 0; i < 20; i += 1) {
      const waiting = q.waitForItems(60_000, signal);
      q.push(items(1));
      await waiting;
      q.take(1, 100);
    }
    assert.equal(added, 20);
    assert.equal(removed, 20);
  });
});

void describe("BoundedQueue: drained", () => {
  void test("resolves at once when nothing is outstanding", async () => {
    assert.equal(await settlesWithin(queue().drained(), 50), true);
  });

  void test("waits for in-flight items to be released, not just taken", async () => {
    const q = queue();
    q.push(items(2, 10));
    const drained = q.drained();
    q.take(2, 1000);
    assert.equal(await settlesWithin(drained, 20), false);
    q.release(10);
    assert.equal(await settlesWithin(drained, 20), false);
    q.release(10);
    assert.equal(await settlesWithin(drained, 1000), true);
  });

  void test("discarding the last waiting items drains", async () => {
    const q = queue();
    q.push(items(2));
    const drained = q.drained();
    q.discard(() => true);
    assert.equal(await settlesWithin(drained, 1000), true);
  });

  void test("resolves when the signal aborts", async () => {
    const q = queue();
    q.push(items(1));
    const controller = new AbortController();
    const drained = q.drained(controller.signal);
    controller.abort();
    assert.equal(await settlesWithin(drained, 1000), true);
    assert.equal(q.outstanding, 1);
    assert.equal(await settlesWithin(q.drained(AbortSignal.abort()), 50), true);
  });
});

void describe("BoundedQueue: randomized accounting", () => {
  void test("counters match a reference model and never go negative", () => {
    let seed = 12345;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const q = queue({ maxRecords: 50, maxBytes: 2000, lowWatermarkRatio: 0.6 });
    const waiting: Item[] = [];
    const inFlight: Item[] = [];
    let saturated = false;
    let next = 0;
    for (let step = 0; step < 20_000; step += 1) {
      const roll = random();
      if (roll < 0.3) {
        const batch = Array.from({ length: Math.floor(random() * 20) }, () => ({
          id: next++,
          size: Math.floor(random() * 100),
          partition: Math.floor(random() * 4),
        }));
        q.push(batch);
        waiting.push(...batch);
      } else if (roll < 0.6) {
        const maxItems = Math.floor(random() * 10);
        const maxBytes = Math.floor(random() * 300);
        const taken = q.take(maxItems, maxBytes);
        const expected: Item[] = [];
        let bytes = 0;
        for (const item of waiting) {
          if (expected.length >= maxItems) break;
          if (expected.length > 0 && bytes + item.size > maxBytes) break;
          expected.push(item);
          bytes += item.size;
        }
        assert.deepEqual(ids(taken), ids(expected));
        waiting.splice(0, taken.length);
        inFlight.push(...taken);
      } else if (roll < 0.95) {
        const index = Math.floor(random() * inFlight.length);
        const item = inFlight[index];
        if (item !== undefined) {
          inFlight.splice(index, 1);
          q.release(item.size);
        }
      } else {
        const partition = Math.floor(random() * 4);
        const removed = q.discard((item) => item.partition === partition);
        const expected = waiting.filter((item) => item.partition === partition);
        assert.deepEqual(ids(removed), ids(expected));
        waiting.splice(0, waiting.length, ...waiting.filter((item) => item.partition !== partition));
      }
      const sum = (list: Item[]): number => list.reduce((total, item) => total + item.size, 0);
      const outstanding = waiting.length + inFlight.length;
      const outstandingBytes = sum(waiting) + sum(inFlight);
      assert.equal(q.waiting, waiting.length);
      assert.equal(q.waitingBytes, sum(waiting));
      assert.equal(q.outstanding, outstanding);
      assert.equal(q.outstandingBytes, outstandingBytes);
      if (saturated) saturated = !(outstanding <= 30 && outstandingBytes <= 1200);
      else saturated = outstanding >= 50 || outstandingBytes >= 2000;
      assert.equal(q.saturated, saturated);
    }
  });
});
