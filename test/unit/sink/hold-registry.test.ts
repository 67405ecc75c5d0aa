import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HoldRegistry, probeDelay, type HoldOptions } from "../../../src/sink/hold-registry.ts";

const options: HoldOptions = { probeInitialMs: 1000, probeMaxMs: 8000, holdMaxMs: 0 };
const a0 = { topic: "a", partition: 0, offset: "17" };

function registry(overrides: Partial<HoldOptions> = {}): HoldRegistry {
  return new HoldRegistry({ ...options, ...overrides }, () => 0.5);
}

describe("hold registry", () => {
  test("probe delays double, are capped, and keep at least half their ceiling (equal jitter)", () => {
    assert.deepEqual([0, 1, 2, 3, 4, 50].map((n) => probeDelay(n, options, () => 0)), [500, 1000, 2000, 4000, 4000, 4000]);
    assert.deepEqual([0, 3, 50].map((n) => probeDelay(n, options, () => 1)), [1000, 8000, 8000]);
  });

  test("a first refusal holds the partition at the refused offset; more refusals change nothing", () => {
    const holds = registry();
    const change = holds.refused(a0, "index_closed_exception", 100);
    assert.equal(change?.kind, "held");
    assert.deepEqual(
      { state: change.hold.state, firstOffset: change.hold.firstOffset, since: change.hold.since, next: change.hold.nextProbeAt },
      { state: "held", firstOffset: "17", since: 100, next: 100 + 750 },
    );
    assert.equal(holds.refused({ ...a0, offset: "18" }, "index_closed_exception", 120), undefined);
    assert.equal(holds.get("a", 0)?.firstOffset, "17");
    assert.equal(holds.isHeld("a", 0), true);
    assert.equal(holds.isHeld("a", 1), false);
    assert.equal(holds.active, true);
  });

  test("a write while held does not release (it was in flight before the hold)", () => {
    const holds = registry();
    holds.refused(a0, "x", 0);
    assert.equal(holds.written("a", 0, 10), undefined);
    assert.equal(holds.isHeld("a", 0), true);
  });

  test("a due probe resumes the partition; a refusal holds it again with a longer backoff; a write releases it", () => {
    const holds = registry();
    holds.refused(a0, "cluster_block_exception", 0);
    assert.equal(holds.nextDueAt(), 750);
    assert.deepEqual(holds.due(749), []);
    const [probe] = holds.due(750);
    assert.equal(probe?.kind, "probing");
    assert.equal(holds.isHeld("a", 0), false, "records of a probed partition are sent");
    const failed = holds.refused(a0, "cluster_block_exception", 800);
    assert.equal(failed?.kind, "probe_failed");
    assert.equal(failed.hold.attempts, 1);
    assert.equal(failed.hold.nextProbeAt, 800 + 1500);
    assert.deepEqual(holds.due(2300).map((c) => c.kind), ["probing"]);
    const released = holds.written("a", 0, 3000);
    assert.equal(released?.kind, "released");
    assert.equal(released.heldMs, 3000);
    assert.equal(holds.active, false);
    assert.equal(holds.nextDueAt(), undefined);
  });

  test("past holdMaxMs a hold expires: resumed, its refusals go to the failure policy until a write releases it", () => {
    const holds = registry({ holdMaxMs: 5000 });
    holds.refused(a0, "index_closed_exception", 0);
    holds.due(750);
    holds.refused(a0, "index_closed_exception", 800);
    assert.equal(holds.nextDueAt(), 2300);
    holds.due(2300);
    holds.refused(a0, "index_closed_exception", 2400);
    assert.equal(holds.nextDueAt(), 5000, "the expiry comes before the next probe");
    assert.deepEqual(holds.due(5000).map((c) => c.kind), ["expired"]);
    assert.equal(holds.isExpired("a", 0), true);
    assert.equal(holds.isHeld("a", 0), false);
    assert.equal(holds.written("a", 0, 6000)?.kind, "released");
    holds.refused(a0, "index_closed_exception", 7000);
    holds.due(12_000);
    assert.equal(holds.isExpired("a", 0), true);
    const again = holds.refused(a0, "dead_letter_unwritable", 12_100);
    assert.equal(again?.kind, "held", "a record that cannot take the failure policy either holds the partition afresh");
    assert.equal(again.hold.since, 12_100);
  });

  test("retain drops the holds of partitions no longer owned", () => {
    const holds = registry();
    holds.refused(a0, "x", 0);
    holds.refused({ topic: "b", partition: 1, offset: "0" }, "x", 0);
    const dropped = holds.retain([{ topic: "b", partition: 1 }]);
    assert.deepEqual(dropped.map((h) => h.topic), ["a"]);
    assert.deepEqual(holds.all().map((h) => h.topic), ["b"]);
  });
});
