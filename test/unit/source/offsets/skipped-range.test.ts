import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lostBelowLogStart } from "../../../../src/source/offsets/skipped-range.ts";

const range = { topic: "t", partition: 0, from: "40", to: "50", count: 10 };

describe("skipped offsets and the log start", () => {
  test("above the log start they are a compacted topic's gap (or transaction markers): nothing lost", () => {
    assert.equal(lostBelowLogStart(range, "0"), undefined);
    assert.equal(lostBelowLogStart(range, "40"), undefined);
  });

  test("below it retention deleted them: all of the range, or the part below the log start", () => {
    assert.deepEqual(lostBelowLogStart(range, "50"), range);
    assert.deepEqual(lostBelowLogStart(range, "90"), range);
    assert.deepEqual(lostBelowLogStart(range, "45"), { ...range, to: "45", count: 5 });
  });
});
