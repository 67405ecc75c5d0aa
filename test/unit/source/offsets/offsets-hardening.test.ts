/**
 * Pure parts of the source's defences against kafkajs' own failures (issue 8): the
 * start/seed plan, the checkpointer's seeded position and skip detection. (The pause plan:
 * consumer/pause-controller.test.ts; the committer: commit-schedule.test.ts.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Checkpointer, type SkippedRange } from "../../../../src/source/offsets/checkpointer.ts";
import { parseCommitted, planSeed } from "../../../../src/source/offsets/partition-seeder.ts";

const T = "orders";

void describe("seed plan", () => {
  const base = { low: 50n, high: 200n, fromBeginning: false, known: undefined };

  void test("a committed offset inside the log is where the partition resumes", () => {
    assert.deepEqual(planSeed({ ...base, committed: 120n }), { committed: 120n, position: 120n, seek: undefined, lost: 0n });
  });

  void test("a committed offset below the log start: the gap is lost, resume at the earliest retained record", () => {
    assert.deepEqual(planSeed({ ...base, committed: 10n }), { committed: 10n, position: 50n, seek: 50n, lost: 40n });
    assert.deepEqual(planSeed({ ...base, committed: 10n, fromBeginning: true }).position, 50n);
  });

  void test("never committed: log start with fromBeginning, else the end (or where a kept partition already is)", () => {
    assert.deepEqual(planSeed({ ...base, committed: undefined, fromBeginning: true }), { committed: undefined, position: 50n, seek: undefined, lost: 0n });
    assert.deepEqual(planSeed({ ...base, committed: undefined }), { committed: undefined, position: 200n, seek: 200n, lost: 0n });
    assert.deepEqual(planSeed({ ...base, committed: undefined, known: 120n }).position, 120n);
  });

  void test("kafkajs' -1 and -2 mean nothing committed", () => {
    assert.equal(parseCommitted("-1"), undefined);
    assert.equal(parseCommitted("-2"), undefined);
    assert.equal(parseCommitted(""), undefined);
    assert.equal(parseCommitted("42"), 42n);
  });
});

void describe("Checkpointer: seeded position and skips", () => {
  void test("a seeded start with nothing in flight is committable (a group that never committed gets its start)", () => {
    const cp = new Checkpointer();
    cp.assign([{ topic: T, partition: 0 }]);
    cp.seedPosition(T, 0, "200");
    assert.deepEqual(cp.committable().map((r) => r.offset), ["200"]);
    assert.equal(cp.safeOffset(T, 0), "200");
    assert.equal(cp.positionOf(T, 0), "200");
  });

  void test("a seed never lowers the safe point nor passes records in flight", () => {
    const cp = new Checkpointer();
    cp.assign([{ topic: T, partition: 0 }]);
    const pending = cp.track(T, 0, "0", "9", 10);
    cp.seedPosition(T, 0, "150");
    assert.equal(cp.safeOffset(T, 0), undefined, "records 0-9 are still in flight");
    for (let i = 0; i < 10; i++) pending?.ack();
    assert.equal(cp.safeOffset(T, 0), "10");
    cp.seedCommitted(T, 0, "150");
    assert.deepEqual(cp.committable(), [], "below what the broker already has: never offered");
  });

  void test("an expelled member's late acks cannot commit below the next owner's offset", () => {
    const cp = new Checkpointer();
    cp.assign([{ topic: T, partition: 0 }]);
    const old = cp.track(T, 0, "0", "99", 100);
    cp.assign([{ topic: T, partition: 0 }]); // "kept" across an expulsion kafkajs never reported
    cp.seedCommitted(T, 0, "150");
    cp.seedPosition(T, 0, "150");
    for (let i = 0; i < 100; i++) old?.ack();
    assert.deepEqual(cp.committable(), []);
  });

  void test("a fetch that starts above the position reports the skipped range, once", () => {
    const skips: SkippedRange[] = [];
    const cp = new Checkpointer();
    cp.onSkipped((range) => skips.push(range));
    cp.assign([{ topic: T, partition: 0 }]);
    cp.seedPosition(T, 0, "10");
    cp.track(T, 0, "10", "19", 10, true);
    cp.track(T, 0, "60", "69", 10, true); // kafkajs reset the position after out-of-range
    cp.track(T, 0, "70", "79", 10, true);
    cp.track(T, 0, "75", "80", 6, true); // a refetch (rewind) is not a skip
    cp.track(T, 0, "90", "90", 0); // not checked (a filtered batch)
    assert.deepEqual(skips, [{ topic: T, partition: 0, from: "20", to: "60", count: 40 }]);
  });
});
