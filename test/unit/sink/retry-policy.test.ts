import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../../src/errors.ts";
import { backoffCeiling, backoffDelay, sleep, validateRetryOptions } from "../../../src/sink/retry-policy.ts";
import { seeded } from "./fixtures.ts";

const options = { retryInitialMs: 100, retryMaxMs: 10_000 };

describe("retry policy", () => {
  test("the ceiling doubles from retryInitialMs and is capped at retryMaxMs", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 6, 7, 8, 50].map((a) => backoffCeiling(a, options)),
      [100, 200, 400, 800, 6400, 10_000, 10_000, 10_000],
    );
  });

  test("no overflow and no limit after very many attempts", () => {
    for (const attempt of [1000, 1e9, Number.MAX_SAFE_INTEGER]) {
      assert.equal(backoffCeiling(attempt, options), 10_000);
      const delay = backoffDelay(attempt, options, () => 0.5);
      assert.equal(delay, 5000);
    }
  });

  test("full jitter: delays are uniform in [0, ceiling)", () => {
    assert.equal(backoffDelay(3, options, () => 0), 0);
    assert.equal(backoffDelay(3, options, () => 0.999999), 799);
    assert.equal(backoffDelay(3, options, () => 1), 800, "a random() of exactly 1 cannot exceed the ceiling");
    assert.equal(backoffDelay(3, options, () => 2), 800, "out-of-range randoms are clamped");
    const random = seeded(42);
    const delays = Array.from({ length: 2000 }, () => backoffDelay(8, options, random));
    for (const d of delays) assert.ok(Number.isInteger(d) && d >= 0 && d < 10_000, String(d));
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    assert.ok(mean > 4500 && mean < 5500, `mean ${mean} should be about half the ceiling`);
    assert.ok(new Set(delays).size > 1500, "jitter spreads the delays");
  });

  test("seeded randomness makes delays reproducible", () => {
    const a = seeded(7);
    const b = seeded(7);
    const first = [0, 1, 2, 3, 4].map((n) => backoffDelay(n, options, a));
    assert.deepEqual(first, [0, 1, 2, 3, 4].map((n) => backoffDelay(n, options, b)));
  });

  test("invalid delays are configuration errors", () => {
    assert.doesNotThrow(() => {
      validateRetryOptions({ retryInitialMs: 5, retryMaxMs: 5 });
    });
    for (const bad of [
      { retryInitialMs: 0, retryMaxMs: 10 },
      { retryInitialMs: 10, retryMaxMs: 5 },
      { retryInitialMs: Number.NaN, retryMaxMs: 5 },
      { retryInitialMs: 1, retryMaxMs: Number.POSITIVE_INFINITY },
    ]) {
      assert.throws(() => {
        validateRetryOptions(bad);
      }, ConfigError);
    }
  });

  test("sleep ends early when the signal aborts, and never rejects", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const slept = sleep(60_000, controller.signal);
    setTimeout(() => {
      controller.abort();
    }, 10);
    await slept;
    assert.ok(performance.now() - started < 5000);
    await sleep(60_000, controller.signal); // already aborted: immediate
    await sleep(0, new AbortController().signal);
  });
});
