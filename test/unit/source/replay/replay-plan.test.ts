import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  advance, advanceAll, describePositions, inRange, isDone, lastOffsetOf, lossLines, offsetTotals, planRange, retentionLosses, wanted,
} from "../../../../src/source/replay/replay-plan.ts";

const starts = [
  { topic: "b", partition: 0, offset: "10" },
  { topic: "a", partition: 1, offset: "5" },
  { topic: "a", partition: 0, offset: "0" },
];
const ends = [
  { topic: "a", partition: 0, offset: "100" },
  { topic: "a", partition: 1, offset: "5" },
  { topic: "b", partition: 0, offset: "3" },
];

describe("replay plan", () => {
  test("one plan per partition, sorted; an end before the start (or none) is an empty range", () => {
    const plans = planRange(starts, ends);
    assert.deepEqual(plans, [
      { topic: "a", partition: 0, start: "0", end: "100", next: "0" },
      { topic: "a", partition: 1, start: "5", end: "5", next: "5" },
      { topic: "b", partition: 0, start: "10", end: "10", next: "10" },
    ]);
    assert.deepEqual(plans.map(isDone), [false, true, true]);
    assert.deepEqual(planRange([{ topic: "c", partition: 0, offset: "4" }], []), [{ topic: "c", partition: 0, start: "4", end: "4", next: "4" }]);
  });

  test("wanted is [next, end); lastOffsetOf is end - 1; offsets beyond 2^53 stay exact", () => {
    const plan = { topic: "a", partition: 0, start: "9007199254740993", end: "9007199254740995", next: "9007199254740994" };
    assert.equal(wanted(plan, "9007199254740993"), false);
    assert.equal(wanted(plan, "9007199254740994"), true);
    assert.equal(wanted(plan, "9007199254740995"), false);
    assert.equal(lastOffsetOf(plan), "9007199254740994");
  });

  test("advance moves next forward only, never past end", () => {
    const plan = { topic: "a", partition: 0, start: "0", end: "100", next: "40" };
    assert.equal(advance(plan, "30").next, "40");
    assert.equal(advance(plan, "30"), plan);
    assert.equal(advance(plan, "60").next, "60");
    assert.equal(advance(plan, "150").next, "100");
    assert.equal(isDone(advance(plan, "150")), true);
  });

  test("advanceAll applies safe offsets by partition and leaves the others", () => {
    const plans = planRange(starts, ends);
    const moved = advanceAll(plans, [{ topic: "a", partition: 0, offset: "42" }, { topic: "z", partition: 9, offset: "1" }]);
    assert.equal(moved[0]?.next, "42");
    assert.equal(moved[1], plans[1]);
  });

  test("totals and positions measure what is left", () => {
    const plans = advanceAll(planRange(starts, ends), [{ topic: "a", partition: 0, offset: "25" }]);
    assert.deepEqual(offsetTotals(plans), { total: 100, left: 75 });
    assert.equal(describePositions(plans), "a[0]@25/100");
    assert.equal(describePositions(advanceAll(plans, [{ topic: "a", partition: 0, offset: "100" }])), "every partition done");
  });

  test("inRange is [from, to)", () => {
    const range = { from: 1_000, to: 2_000 };
    assert.deepEqual([999, 1_000, 1_999, 2_000].map((t) => inRange(range, t)), [false, true, true, false]);
  });

  test("retention losses: offsets below the log start not yet read are named; done or untouched partitions are not", () => {
    const plans = [
      { topic: "t", partition: 0, start: "0", end: "200", next: "10" },
      { topic: "t", partition: 1, start: "0", end: "200", next: "200" },
      { topic: "t", partition: 2, start: "0", end: "30", next: "5" },
      { topic: "t", partition: 3, start: "40", end: "90", next: "40" },
    ];
    const lows = [0, 1, 2, 3].map((p) => ({ topic: "t", partition: p, offset: ["80", "150", "50", "20"][p] ?? "0" }));
    const resumed = retentionLosses(plans, lows, false);
    assert.deepEqual(resumed, [
      { topic: "t", partition: 0, from: "10", below: "80" },
      { topic: "t", partition: 2, from: "5", below: "30" },
    ]);
    assert.deepEqual(lossLines(resumed), ["t[0]: offsets 10-79 (70)", "t[2]: offsets 5-29 (25)"]);
  });

  test("a fresh plan starting at a log start above 0 reaches back past the oldest record kept; at log start 0 or empty, nothing is lost", () => {
    const plan = (partition: number, start: string, end: string) => ({ topic: "t", partition, start, end, next: start });
    const lows = [{ topic: "t", partition: 0, offset: "50" }, { topic: "t", partition: 1, offset: "0" }, { topic: "t", partition: 2, offset: "70" }, { topic: "t", partition: 3, offset: "10" }];
    const losses = retentionLosses([plan(0, "50", "200"), plan(1, "0", "200"), plan(2, "70", "70"), plan(3, "60", "90")], lows, true);
    assert.deepEqual(lossLines(losses), ["t[0]: offsets below 50 (the range starts before the oldest record kept)"]);
  });
});
