import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LogRateLimiter, suppressedSuffix } from "../../../src/shared/rate-limited-log.ts";

describe("LogRateLimiter", () => {
  test("lets the first occurrence through, then one per interval, counting the rest", () => {
    let now = 0;
    const limiter = new LogRateLimiter({ intervalMs: 10_000, now: () => now });
    assert.deepEqual(limiter.check("es-down"), { allowed: true, suppressed: 0, sinceMs: 0 });
    for (let i = 0; i < 1234; i++) {
      now += 5;
      assert.deepEqual(limiter.check("es-down"), { allowed: false });
    }
    now = 10_000;
    assert.deepEqual(limiter.check("es-down"), { allowed: true, suppressed: 1234, sinceMs: 10_000 });
    now = 10_001;
    assert.deepEqual(limiter.check("es-down"), { allowed: false });
  });

  test("keys are independent", () => {
    const now = 0;
    const limiter = new LogRateLimiter({ intervalMs: 1000, now: () => now });
    assert.equal(limiter.check("a").allowed, true);
    assert.equal(limiter.check("b").allowed, true);
    assert.equal(limiter.check("a").allowed, false);
  });

  test("flush reports held-back counts once and resets them", () => {
    let now = 0;
    const limiter = new LogRateLimiter({ intervalMs: 1000, now: () => now });
    limiter.check("a");
    limiter.check("a");
    limiter.check("a");
    limiter.check("b");
    now = 400;
    assert.deepEqual(limiter.flush(), [{ key: "a", suppressed: 2, sinceMs: 400 }]);
    assert.deepEqual(limiter.flush(), []);
    // The flush counted as a line: the next one is due an interval after it.
    now = 1200;
    assert.deepEqual(limiter.check("a"), { allowed: false });
    now = 1400;
    assert.deepEqual(limiter.check("a"), { allowed: true, suppressed: 1, sinceMs: 1000 });
  });

  test("remembers at most maxKeys keys, forgetting the oldest", () => {
    const now = 0;
    const limiter = new LogRateLimiter({ intervalMs: 1000, maxKeys: 2, now: () => now });
    limiter.check("a");
    limiter.check("b");
    limiter.check("c"); // evicts "a"
    assert.equal(limiter.check("a").allowed, true);
    assert.equal(limiter.check("c").allowed, false);
  });
});

describe("suppressedSuffix", () => {
  test("says how many more, over how long", () => {
    assert.equal(suppressedSuffix(0, 10_000), "");
    assert.equal(suppressedSuffix(1234, 10_000), " (and 1234 more like it in the last 10s)");
    assert.equal(suppressedSuffix(1, 200), " (and 1 more like it in the last 1s)");
  });
});
