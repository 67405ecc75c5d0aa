/**
 * The committer's per-attempt re-validation (issue 8) and the schedule that owns when
 * attempts happen: serialized, retried with backoff after a failure, periodic, and
 * quiet once stopped.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Offsets } from "kafkajs";
import pino from "pino";
import { Checkpointer } from "../../../../src/source/offsets/checkpointer.ts";
import { CommitSchedule, type CommitScheduleOptions } from "../../../../src/source/offsets/commit-schedule.ts";
import { OffsetCommitter, toOffsets, type CommitChannel } from "../../../../src/source/offsets/offset-committer.ts";

const T = "orders";
const logger = pino({ level: "silent" });

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

/** Polls `done` every 5 ms; fails after `timeoutMs` (generous: the machine is shared). */
async function until(what: string, done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Two partitions with records 0..4 acked: offset 5 is committable on both. */
function setup(options: Partial<CommitScheduleOptions> = {}) {
  const cp = new Checkpointer();
  cp.assign([{ topic: T, partition: 0 }, { topic: T, partition: 1 }]);
  for (const p of [0, 1]) {
    const segment = cp.track(T, p, "0", "4", 5);
    for (let i = 0; i < 5; i++) segment?.ack();
  }
  const outcomes: string[] = [];
  const seeded = new Set([0, 1]);
  const committer = new OffsetCommitter(cp, { mayCommit: (r) => seeded.has(r.partition), committed: (outcome) => outcomes.push(outcome) });
  const ticks = { count: 0 };
  const schedule = new CommitSchedule(
    committer,
    { intervalMs: 60_000, retryInitialMs: 5, retryMaxMs: 20, ...options },
    { tick: () => { ticks.count += 1; } },
    logger,
  );
  return { cp, committer, schedule, outcomes, seeded, ticks };
}

void describe("OffsetCommitter", () => {
  void test("commits nothing without a running runner, and marks nothing", async () => {
    const { cp, committer } = setup();
    assert.deepEqual(await committer.attempt(), { outcome: "not-joined" });
    const channel = fakeChannel([]);
    channel.running = false;
    committer.useChannel(channel);
    assert.deepEqual(await committer.attempt(), { outcome: "not-joined" });
    assert.equal(channel.calls.length, 0);
    assert.equal(cp.committable().length, 2, "still to commit");
  });

  void test("marks only what the broker acknowledged; partitions not seeded wait", async () => {
    const { cp, committer, seeded } = setup();
    seeded.delete(1);
    const channel = fakeChannel(["ok"]);
    committer.useChannel(channel);
    assert.deepEqual(await committer.attempt(), { outcome: "committed" });
    assert.deepEqual(channel.calls, [{ topics: [{ topic: T, partitions: [{ partition: 0, offset: "5" }] }] }]);
    assert.deepEqual(cp.committable().map((r) => r.partition), [1]);
  });

  void test("a failed attempt says why and for how many partitions, and marks nothing", async () => {
    const { cp, committer, outcomes } = setup();
    committer.useChannel(fakeChannel(["fail"]));
    const result = await committer.attempt();
    assert.ok(result.outcome === "failed");
    assert.equal(result.partitions, 2);
    assert.deepEqual(outcomes, ["failure"]);
    assert.equal(cp.committable().length, 2);
  });

  void test("toOffsets groups by topic", () => {
    assert.deepEqual(toOffsets([
      { topic: "a", partition: 0, offset: "1", ownership: 1 },
      { topic: "b", partition: 2, offset: "3", ownership: 2 },
      { topic: "a", partition: 1, offset: "5", ownership: 3 },
    ]), { topics: [{ topic: "a", partitions: [{ partition: 0, offset: "1" }, { partition: 1, offset: "5" }] }, { topic: "b", partitions: [{ partition: 2, offset: "3" }] }] });
  });
});

void describe("CommitSchedule", () => {
  void test("a failed attempt is retried by itself, re-validated: a partition lost meanwhile is not sent again", async () => {
    const { cp, committer, schedule, outcomes } = setup();
    const channel = fakeChannel(["fail", "ok"]);
    committer.useChannel(channel);
    assert.equal(await schedule.commitNow(), "failed");
    assert.equal(cp.committable().length, 2, "a failure marks nothing");
    cp.assign([{ topic: T, partition: 0 }]); // rebalance: partition 1 went to another member
    await until("the retry", () => channel.calls.length === 2);
    await schedule.stop();
    const retried = channel.calls[1]?.topics.flatMap((t) => t.partitions.map((p) => p.partition));
    assert.deepEqual(retried, [0], "partition 1 is no longer ours: not sent again");
    assert.deepEqual(outcomes, ["failure", "success"]);
    assert.deepEqual(cp.committable(), []);
  });

  void test("attempts are serialized: settled() resolves only after the one in flight", async () => {
    const { committer, schedule } = setup();
    let release = (): void => undefined;
    const calls: Offsets[] = [];
    committer.useChannel({
      isRunning: () => true,
      commitOffsetsIfNecessary: (offsets) => {
        calls.push(offsets);
        return new Promise<void>((resolve) => { release = resolve; });
      },
    });
    const first = schedule.commitNow();
    const second = schedule.commitNow();
    let settled = false;
    void schedule.settled().then(() => { settled = true; });
    await until("the first attempt to reach the broker", () => calls.length === 1);
    assert.equal(settled, false, "an attempt is in flight");
    release();
    assert.equal(await first, "committed");
    assert.equal(await second, "nothing", "the second ran after the first had marked everything");
    await until("settled", () => settled);
    assert.equal(calls.length, 1);
  });

  void test("commits every interval, with a tick each time", async () => {
    const { committer, schedule, ticks, cp } = setup({ intervalMs: 10, retryInitialMs: 60_000, retryMaxMs: 60_000 });
    committer.useChannel(fakeChannel(["ok"]));
    schedule.start();
    await until("the periodic commit", () => cp.committable().length === 0);
    assert.ok(ticks.count >= 1);
    await schedule.stop();
  });

  void test("after stop(): no period, no retry; an explicit commit (before the consumer stops) still runs", async () => {
    const { committer, schedule, ticks } = setup({ intervalMs: 10, retryInitialMs: 5, retryMaxMs: 5 });
    const channel = fakeChannel(["fail", "ok"]);
    committer.useChannel(channel);
    schedule.start();
    await schedule.stop();
    assert.equal(await schedule.beforeConsumerStops(), "failed");
    // Absence can only be checked over a while: 100 ms is ten periods and twenty retry delays.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(channel.calls.length, 1, "no retry after stop()");
    assert.equal(ticks.count, 0, "no period after stop()");
  });
});
