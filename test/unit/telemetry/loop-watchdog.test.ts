import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LoopWatchdog } from "../../../src/telemetry/loop-watchdog.ts";
import { combineChecks } from "../../../src/telemetry/probe.ts";

describe("LoopWatchdog", () => {
  test("healthy with no loops and while every loop beats in time", () => {
    let now = 0;
    const watchdog = new LoopWatchdog({ staleAfterMs: 30_000, now: () => now });
    assert.equal(watchdog.check().ok, true);
    watchdog.register("fetch");
    watchdog.register("commit");
    now = 20_000;
    watchdog.beat("fetch");
    now = 29_000;
    const result = watchdog.check();
    assert.equal(result.ok, true);
    assert.deepEqual(result.details, { loopSecondsSinceBeat: { fetch: 9, commit: 29 } });
  });

  test("unhealthy, naming the loop, once a loop is silent for longer than staleAfterMs", () => {
    let now = 0;
    const watchdog = new LoopWatchdog({ staleAfterMs: 30_000, now: () => now });
    watchdog.register("fetch");
    watchdog.register("commit");
    now = 45_000;
    watchdog.beat("commit");
    const result = watchdog.check();
    assert.equal(result.ok, false);
    assert.equal(result.reason, 'loop "fetch" has not run for 45s');
    assert.deepEqual(result.reasons, ['loop "fetch" has not run for 45s']);
    // It recovers as soon as the loop turns again.
    watchdog.beat("fetch");
    assert.equal(watchdog.check().ok, true);
  });

  test("an unregistered loop no longer counts; beat registers an unknown loop", () => {
    let now = 0;
    const watchdog = new LoopWatchdog({ staleAfterMs: 1000, now: () => now });
    watchdog.register("lag");
    watchdog.beat("batcher");
    now = 5000;
    watchdog.unregister("lag");
    assert.equal(watchdog.check().reason, 'loop "batcher" has not run for 5s');
    watchdog.unregister("batcher");
    assert.equal(watchdog.check().ok, true);
  });
});

describe("combineChecks", () => {
  test("ready only when every check passes, listing each failure", () => {
    let joined = false;
    const checks = [
      { name: "group", ok: () => joined, reason: "not a member of the consumer group" },
      { name: "elasticsearch", ok: () => false },
      {
        name: "broken",
        ok: (): boolean => {
          throw new Error("x");
        },
      },
    ];
    const result = combineChecks(checks);
    assert.equal(result.ok, false);
    assert.equal(result.reason, "not a member of the consumer group");
    assert.deepEqual(result.reasons, ["not a member of the consumer group", "elasticsearch not ready", "broken not ready"]);
    assert.deepEqual(result.details, { group: false, elasticsearch: false, broken: false });
    joined = true;
    assert.deepEqual(combineChecks(checks.slice(0, 1)), { ok: true, details: { group: true } });
  });
});
