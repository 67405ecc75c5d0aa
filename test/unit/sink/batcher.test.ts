import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../../src/errors.ts";
import { Batcher } from "../../../src/sink/batcher.ts";

describe("Batcher", () => {
  test("flushes when the document count is reached", () => {
    const b = new Batcher<number>({ maxDocuments: 3, maxBytes: 1000, lingerMs: 100 });
    assert.deepEqual(b.add(1, 10, 0), []);
    assert.deepEqual(b.add(2, 10, 0), []);
    assert.deepEqual(b.add(3, 10, 0), [[1, 2, 3]]);
    assert.equal(b.isEmpty, true);
    assert.equal(b.bytes, 0);
  });

  test("flushes before an item that would exceed the byte limit", () => {
    const b = new Batcher<string>({ maxDocuments: 100, maxBytes: 100, lingerMs: 100 });
    assert.deepEqual(b.add("a", 60, 0), []);
    assert.deepEqual(b.add("b", 60, 5), [["a"]]);
    assert.equal(b.size, 1);
    assert.equal(b.bytes, 60);
  });

  test("flushes when the byte limit is reached exactly", () => {
    const b = new Batcher<string>({ maxDocuments: 100, maxBytes: 100, lingerMs: 100 });
    b.add("a", 40, 0);
    assert.deepEqual(b.add("b", 60, 0), [["a", "b"]]);
  });

  test("an item larger than the byte limit travels alone", () => {
    const b = new Batcher<string>({ maxDocuments: 100, maxBytes: 100, lingerMs: 100 });
    b.add("a", 10, 0);
    assert.deepEqual(b.add("huge", 500, 0), [["a"], ["huge"]]);
    assert.equal(b.isEmpty, true);
    assert.deepEqual(new Batcher<string>({ maxDocuments: 5, maxBytes: 100, lingerMs: 1 }).add("x", 101, 0), [["x"]]);
  });

  test("linger counts from the first document of the batch", () => {
    const b = new Batcher<number>({ maxDocuments: 100, maxBytes: 1000, lingerMs: 50 });
    assert.equal(b.msUntilDue(0), undefined);
    assert.equal(b.isDue(1000), false, "an empty batch is never due");
    b.add(1, 1, 100);
    b.add(2, 1, 140);
    assert.equal(b.msUntilDue(140), 10);
    assert.equal(b.isDue(149), false);
    assert.equal(b.isDue(150), true);
    assert.equal(b.msUntilDue(500), 0);
    assert.deepEqual(b.flush(), [1, 2]);
    b.add(3, 1, 600);
    assert.equal(b.msUntilDue(600), 50, "the clock restarts with the next batch");
  });

  test("a size flush restarts the linger clock for the next item", () => {
    const b = new Batcher<number>({ maxDocuments: 2, maxBytes: 1000, lingerMs: 50 });
    b.add(1, 1, 0);
    b.add(2, 1, 10);
    b.add(3, 1, 40);
    assert.equal(b.msUntilDue(40), 50);
  });

  test("room reports what the current batch can still take", () => {
    const b = new Batcher<number>({ maxDocuments: 10, maxBytes: 100, lingerMs: 1 });
    assert.deepEqual(b.room(), { documents: 10, bytes: 100 });
    b.add(1, 99, 0);
    assert.deepEqual(b.room(), { documents: 9, bytes: 1 });
  });

  test("flush of an empty batch is empty", () => {
    assert.deepEqual(new Batcher<number>({ maxDocuments: 1, maxBytes: 1, lingerMs: 0 }).flush(), []);
  });

  test("rejects nonsensical limits", () => {
    assert.throws(() => new Batcher({ maxDocuments: 0, maxBytes: 1, lingerMs: 0 }), ConfigError);
    assert.throws(() => new Batcher({ maxDocuments: 1, maxBytes: Number.NaN, lingerMs: 0 }), ConfigError);
    assert.throws(() => new Batcher({ maxDocuments: 1, maxBytes: 1, lingerMs: -1 }), ConfigError);
  });
});
