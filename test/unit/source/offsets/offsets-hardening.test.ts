/**
 * Pure parts of the source's defences against kafkajs' own failures (issue 8): the
 * start/seed plan, the checkpointer's seeded position and skip detection, and the
 * committer's per-attempt re-validation. (The pause plan: consumer/pause-controller.test.ts.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Offsets } from "kafkajs";
import pino from "pino";
import { Checkpointer, type SkippedRange } from "../../../../src/source/offsets/checkpointer.ts";
import { OffsetCommitter, toOffsets, type CommitChannel } from "../../../../src/source/offsets/offset-committer.ts";
import { parseCommitted, planSeed } from "../../../../src/source/offsets/partition-seeder.ts";

const T = "orders";
const logger = pino({ level: "silent" });

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

function fakeChannel(outcomes: ("ok" | "fail")[]): CommitChannel & { calls: Offsets[]; running: boolean } {
  const calls: Offsets[] = [];
  const channel = {
    calls,
    running: true,
    isRunning: () => channel.running,
    commitOffsetsIfNecessary: (offsets: Offsets) => {
      calls.push(offsets);
      return outcomes.shift() === "fail" ? Promise.reject(new Error("NOT_COORDINATOR")) : Promise.resolve();
    },
  };
  return channel;
}

void describe("OffsetCommitter", () => {
  const setup = () => {
    const cp = new Checkpointer();
    cp.assign([{ topic: T, partition: 0 }, { topic: T, partition: 1 }]);
    for (const p of [0, 1]) {
      const segment = cp.track(T, p, "0", "4", 5);
      for (let i = 0; i < 5; i++) segment?.ack();
    }
    const outcomes: string[] = [];
    const seeded = new Set([0, 1]);
    const committer = new OffsetCommitter(
      cp,
      { mayCommit: (r) => seeded.has(r.partition), committed: (outcome) => outcomes.push(outcome) },
      { retryInitialMs: 5, retryMaxMs: 20 },
      logger,
    );
    return { cp, committer, outcomes, seeded };
  };

  void test("commits nothing without a running runner, and marks nothing", async () => {
    const { cp, committer } = setup();
    assert.equal(await committer.commitNow(), "not-joined");
    const channel = fakeChannel([]);
    channel.running = false;
    committer.useChannel(channel);
    assert.equal(await committer.commitNow(), "not-joined");
    assert.equal(channel.calls.length, 0);
    assert.equal(cp.committable().length, 2, "still to commit");
  });

  void test("marks only what the broker acknowledged; partitions not seeded wait", async () => {
    const { cp, committer, seeded } = setup();
    seeded.delete(1);
    const channel = fakeChannel(["ok"]);
    committer.useChannel(channel);
    assert.equal(await committer.commitNow(), "committed");
    assert.deepEqual(channel.calls, [{ topics: [{ topic: T, partitions: [{ partition: 0, offset: "5" }] }] }]);
    assert.deepEqual(cp.committable().map((r) => r.partition), [1]);
  });

  void test("a failed attempt is retried by itself, re-validated: a partition lost meanwhile is not sent again", async () => {
    const { cp, committer, outcomes } = setup();
    const channel = fakeChannel(["fail", "ok"]);
    committer.useChannel(channel);
    assert.equal(await committer.commitNow(), "failed");
    assert.equal(cp.committable().length, 2, "a failure marks nothing");
    cp.assign([{ topic: T, partition: 0 }]); // rebalance: partition 1 went to another member
    await new Promise((resolve) => setTimeout(resolve, 50));
    await committer.stop();
    assert.equal(channel.calls.length, 2);
    const retried = channel.calls[1]?.topics.flatMap((t) => t.partitions.map((p) => p.partition));
    assert.deepEqual(retried, [0], "partition 1 is no longer ours: not sent again");
    assert.deepEqual(outcomes, ["failure", "success"]);
    assert.deepEqual(cp.committable(), []);
  });

  void test("toOffsets groups by topic", () => {
    assert.deepEqual(toOffsets([
      { topic: "a", partition: 0, offset: "1", ownership: 1 },
      { topic: "b", partition: 2, offset: "3", ownership: 2 },
      { topic: "a", partition: 1, offset: "5", ownership: 3 },
    ]), { topics: [{ topic: "a", partitions: [{ partition: 0, offset: "1" }, { partition: 1, offset: "5" }] }, { topic: "b", partitions: [{ partition: 2, offset: "3" }] }] });
  });
});
