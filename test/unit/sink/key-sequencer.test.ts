import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KeySequencer } from "../../../src/sink/key-sequencer.ts";

describe("key sequencer", () => {
  test("one write per key at a time; the rest wait in arrival order; other keys are not held", () => {
    const s = new KeySequencer<string>();
    assert.equal(s.admit("a", "a1"), true);
    assert.equal(s.admit("a", "a2"), false);
    assert.equal(s.admit("b", "b1"), true, "another key goes at once");
    assert.equal(s.admit("a", "a3"), false);
    assert.equal(s.waiting, 2);
    assert.equal(s.release("a"), "a2", "the next in arrival order");
    assert.equal(s.admit("a", "a4"), false, "still one in flight (a2)");
    assert.equal(s.release("a"), "a3");
    assert.equal(s.release("a"), "a4");
    assert.equal(s.release("a"), undefined, "free again");
    assert.equal(s.admit("a", "a5"), true);
    assert.equal(s.release("b"), undefined);
    assert.equal(s.size, 1);
    assert.equal(s.release("zzz"), undefined, "releasing an idle key is harmless");
  });
});
