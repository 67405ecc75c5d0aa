/** The pause plan: which partitions stay paused, applied whole whatever kafkajs did meanwhile (issue 8). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { applyPlan, byTopic, mayEnqueue, planPauses, type PausableConsumer } from "../../../../src/source/consumer/pause-controller.ts";

const T = "orders";
const quiet = { saturated: false, stopping: false, resubscribing: false };

void describe("pause plan", () => {
  const assignment = [{ topic: T, partition: 0 }, { topic: T, partition: 1 }];

  void test("everything paused while the queue is full, stopping or re-subscribing", () => {
    for (const inputs of [{ ...quiet, saturated: true }, { ...quiet, stopping: true }, { ...quiet, resubscribing: true }]) {
      assert.deepEqual(planPauses(inputs, assignment, new Set()), { all: true, partitions: [] });
    }
  });

  void test("otherwise only the partitions still being seeded", () => {
    const plan = planPauses(quiet, assignment, new Set([`${T}\u00001`]));
    assert.deepEqual(plan, { all: false, partitions: [{ topic: T, partition: 1 }] });
    assert.equal(mayEnqueue(plan, T, 0), true);
    assert.equal(mayEnqueue(plan, T, 1), false);
    assert.equal(mayEnqueue({ all: true, partitions: [] }, T, 0), false);
  });

  void test("partitions read up to their end (redrive's stopAt) stay paused beside those being seeded", () => {
    const plan = planPauses(quiet, assignment, new Set([`${T}\u00001`]), new Set([`${T}\u00000`]));
    assert.deepEqual(plan, { all: false, partitions: [{ topic: T, partition: 0 }, { topic: T, partition: 1 }] });
    assert.equal(mayEnqueue(plan, T, 0), false);
  });

  void test("applying is idempotent and complete: resume all, then pause the plan", () => {
    const calls: string[] = [];
    const consumer: PausableConsumer = {
      pause: (tps) => { calls.push(`pause ${JSON.stringify(tps)}`); },
      resume: (tps) => { calls.push(`resume ${JSON.stringify(tps)}`); },
    };
    applyPlan(consumer, [T], { all: true, partitions: [] });
    applyPlan(consumer, [T], { all: false, partitions: [{ topic: T, partition: 1 }] });
    applyPlan(consumer, [T], { all: false, partitions: [] });
    assert.deepEqual(calls, [
      `pause [{"topic":"${T}"}]`,
      `resume [{"topic":"${T}"}]`,
      `pause [{"topic":"${T}","partitions":[1]}]`,
      `resume [{"topic":"${T}"}]`,
    ]);
    assert.deepEqual(byTopic([{ topic: "a", partition: 1 }, { topic: "b", partition: 0 }, { topic: "a", partition: 3 }]), [
      { topic: "a", partitions: [1, 3] },
      { topic: "b", partitions: [0] },
    ]);
  });
});
