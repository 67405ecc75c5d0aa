import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../../src/errors.ts";
import { AdaptiveConcurrency, type RequestSignal } from "../../../src/sink/adaptive-concurrency.ts";

const MiB = 2 ** 20;

/** The simulated clock (ms), shared by successive `simulate` calls on one controller. */
const clocks = new WeakMap<AdaptiveConcurrency, number>();

/**
 * A simulated server: `limit` requests go out together, each taking `latency(limit)`
 * ms; the clock advances by that round. Returns the limit after each round.
 */
function simulate(
  controller: AdaptiveConcurrency,
  rounds: number,
  server: (inFlight: number, round: number) => { latencyMs: number; signal: RequestSignal },
  bytes = 5 * MiB,
): number[] {
  let now = clocks.get(controller) ?? 0;
  const limits: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const inFlight = controller.limit;
    const { latencyMs, signal } = server(inFlight, round);
    now += latencyMs;
    for (let i = 0; i < inFlight; i++) controller.observe({ at: now + i * 0.01, latencyMs, bytes, signal, inFlight });
    limits.push(controller.limit);
  }
  clocks.set(controller, now + 1);
  return limits;
}

describe("AdaptiveConcurrency", () => {
  test("starts at the floor (2) and climbs one step per round-trip to the ceiling while latency stays flat", () => {
    const c = new AdaptiveConcurrency({ max: 6 });
    assert.equal(c.limit, 2);
    const limits = simulate(c, 10, () => ({ latencyMs: 200, signal: "ok" }));
    assert.deepEqual(limits.slice(0, 5), [3, 4, 5, 6, 6]);
    assert.equal(c.limit, 6, "reaches the ceiling (bulk.workers) without tuning");
  });

  test("starts at 1 with a floor of 1 or a ceiling of 1, and at a given initial", () => {
    assert.equal(new AdaptiveConcurrency({ max: 6, latencyFloor: 1 }).limit, 1);
    assert.equal(new AdaptiveConcurrency({ max: 1 }).limit, 1);
    assert.equal(new AdaptiveConcurrency({ max: 6, initial: 1 }).limit, 1);
  });

  test("never exceeds the ceiling, never drops below 1", () => {
    const c = new AdaptiveConcurrency({ max: 3, initial: 10 });
    assert.equal(c.limit, 3);
    simulate(c, 20, () => ({ latencyMs: 50, signal: "backpressure" }));
    assert.equal(c.limit, 1);
    simulate(c, 20, () => ({ latencyMs: 50, signal: "ok" }));
    assert.equal(c.limit, 3);
  });

  test("halves on back-pressure (429/503/timeout), once per round-trip, then climbs back", () => {
    const c = new AdaptiveConcurrency({ max: 16, initial: 16 });
    const limits = simulate(c, 12, (_n, round) => ({ latencyMs: 100, signal: round < 3 ? "backpressure" : "ok" }));
    // Three rounds of 429s: 16 -> 8 -> 4 -> 2 (one decrease per round, not one per response).
    assert.deepEqual(limits.slice(0, 3), [8, 4, 2]);
    assert.deepEqual(limits.slice(3, 6), [3, 4, 5]);
  });

  test("a 429 storm holds the limit at 1: no retry storm from this worker", () => {
    const c = new AdaptiveConcurrency({ max: 8 });
    simulate(c, 5, () => ({ latencyMs: 100, signal: "ok" }));
    assert.equal(c.limit, 7);
    const storm = simulate(c, 50, () => ({ latencyMs: 5, signal: "backpressure" }));
    assert.ok(storm.slice(3).every((l) => l === 1), storm.join(","));
    assert.equal(c.lastChange, "backpressure");
  });

  test("backs off when Elasticsearch is saturated: latency grows with concurrency", () => {
    // A server that does 2 requests' work at a time: beyond 2, each request waits.
    const c = new AdaptiveConcurrency({ max: 8 });
    const limits = simulate(c, 60, (inFlight) => ({ latencyMs: 100 * Math.max(1, inFlight / 2), signal: "ok" }));
    // Round-trips at most about 2.5 times the unloaded one, never the ceiling's 4 times.
    assert.ok(Math.max(...limits) <= 6, `stays near the saturation point: ${limits.join(",")}`);
    assert.ok(Math.min(...limits.slice(5)) >= 2, `keeps the server busy: ${limits.join(",")}`);
  });

  test("latency is compared per byte: a small lingering request after full ones is no rise, nor a full one after small ones", () => {
    const c = new AdaptiveConcurrency({ max: 4 });
    // Full 5 MiB requests first: they set the baseline.
    simulate(c, 2, () => ({ latencyMs: 300, signal: "ok" }), 5 * MiB);
    // A 10 KiB lingering request is far quicker, but costed as 256 KiB it is no rise.
    simulate(c, 2, () => ({ latencyMs: 20, signal: "ok" }), 10 * 1024);
    assert.equal(c.limit, 4);
    // Full requests again after small ones: slower in absolute terms, same cost per byte.
    simulate(c, 2, () => ({ latencyMs: 300, signal: "ok" }), 5 * MiB);
    assert.notEqual(c.lastChange, "latency");
  });

  test("an unused limit is not raised", () => {
    const c = new AdaptiveConcurrency({ max: 8 });
    let now = 0;
    for (let i = 0; i < 20; i++) {
      now += 100;
      c.observe({ at: now, latencyMs: 100, bytes: MiB, signal: "ok", inFlight: 1 });
    }
    assert.equal(c.limit, 2, "one step to 2, then never more while only 1 request is ever in flight");
  });

  test("a workload that became heavier for good is re-learned at concurrency 1", () => {
    const c = new AdaptiveConcurrency({ max: 4 });
    simulate(c, 10, () => ({ latencyMs: 100, signal: "ok" }));
    assert.equal(c.limit, 4);
    // Every request now costs 5 times as much, at any concurrency (larger documents).
    const limits = simulate(c, 60, () => ({ latencyMs: 500, signal: "ok" }));
    assert.equal(c.limit, 4, `climbs back once the new cost is learned: ${limits.join(",")}`);
  });

  test("a latency rise alone never takes the limit below the floor of 2; back-pressure does", () => {
    // A busy node whose round-trips grow with the square of the requests in flight.
    const c = new AdaptiveConcurrency({ max: 4 });
    const limits = simulate(c, 40, (inFlight) => ({ latencyMs: 100 * inFlight * inFlight, signal: "ok" }));
    assert.ok(Math.min(...limits.slice(2)) >= 2, `stays at 2 or more: ${limits.join(",")}`);
    simulate(c, 5, () => ({ latencyMs: 100, signal: "backpressure" }));
    assert.equal(c.limit, 1, "429s still halve it down to 1");
    const old = new AdaptiveConcurrency({ max: 4, latencyFloor: 1 });
    const oldLimits = simulate(old, 40, (inFlight) => ({ latencyMs: 100 * inFlight * inFlight, signal: "ok" }));
    assert.ok(oldLimits.includes(1), `with a floor of 1 latency alone drops it to 1: ${oldLimits.join(",")}`);
  });

  test("errors that say nothing about load (refused connection, 400) change nothing", () => {
    const c = new AdaptiveConcurrency({ max: 4, initial: 3 });
    simulate(c, 5, () => ({ latencyMs: 10, signal: "error" }));
    assert.equal(c.limit, 3);
  });

  test("invalid settings are refused with one clear line", () => {
    assert.throws(() => new AdaptiveConcurrency({ max: 0 }), ConfigError);
    assert.throws(() => new AdaptiveConcurrency({ max: 2, initial: 0 }), ConfigError);
    assert.throws(() => new AdaptiveConcurrency({ max: 2, backoffRatio: 1 }), /backoffRatio/);
    assert.throws(() => new AdaptiveConcurrency({ max: 2, latencyRatio: 0 }), /latencyRatio/);
    assert.throws(() => new AdaptiveConcurrency({ max: 2, latencyRise: 0 }), /latencyRise/);
    assert.throws(() => new AdaptiveConcurrency({ max: 2, latencyFloor: 0 }), /latencyFloor/);
  });
});
